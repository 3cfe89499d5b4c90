// Native approvals: N of M listed Signoff users approve; any reject rejects; each decides once.
import type { ApprovalRecord, ApprovalStatus, Approver, DecisionRecord } from '../store/approvals.js';
import { insertApproval } from '../store/approvals.js';
import type { Tx } from '../store/db.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import { transitionJob } from '../store/runs.js';
import { findUser } from '../store/users.js';
import { type Queue, queues } from './queue.js';
import type { JobStatus } from './status.js';
import { render, type TemplateContext } from './template.js';
import type { ApprovalJob } from './workflow-spec.js';

export type NativeApprovalJob = ApprovalJob & { spec: Extract<ApprovalJob['spec'], { type: 'native' }> };

export interface StartApproval {
  run: RunRecord;
  job: JobRecord;
  spec: NativeApprovalJob;
  context: TemplateContext;
  queue: Queue;
}

/** Opens the waitpoint inside the caller's transaction, with its deadline on the queue. */
export async function startNativeApproval(
  tx: Tx,
  { job, spec, context, queue }: StartApproval,
): Promise<void> {
  const approvers: Approver[] = [];
  const unknown: string[] = [];
  for (const handle of spec.spec.approvers) {
    const user = await findUser(tx, handle);
    if (user) approvers.push({ user_id: user.id, name: user.name });
    else unknown.push(handle);
  }
  let description: string | null = null;
  let problem: string | undefined;
  if (unknown.length > 0) {
    problem = `no Signoff user named ${unknown.join(', ')}; create them with \`signoff users add\` or fix the approvers`;
  } else {
    try {
      description = spec.spec.description ? await render(spec.spec.description, context) : null;
    } catch (error) {
      problem = `the description template failed: ${(error as Error).message}`;
    }
  }
  if (problem) {
    await transitionJob(tx, job.id, ['pending'], 'failed', { reason: problem });
    return;
  }
  const approval = await insertApproval(tx, {
    job_id: job.id,
    run_id: job.run_id,
    kind: 'native',
    needed: spec.spec.needed_approvers,
    approvers,
    description,
    deadline: new Date(Date.now() + spec.spec.timeout),
    timeout_outcome: spec.spec.timeout_outcome,
  });
  await transitionJob(tx, job.id, ['pending'], 'waiting_for_approval');
  await queue.send(
    tx,
    queues.approvalDeadline,
    { approvalId: approval.id },
    { startAfter: approval.deadline },
  );
}

export interface Outcome {
  status: ApprovalStatus;
  jobStatus: JobStatus;
  reason: string;
}

/** Decided yet? Any reject rejects at once; otherwise `needed` approvals pass. */
export function evaluateNative(approval: ApprovalRecord, decisions: DecisionRecord[]): Outcome | undefined {
  const reject = decisions.find((decision) => decision.decision === 'reject');
  if (reject) {
    return {
      status: 'rejected',
      jobStatus: 'rejected',
      reason: `rejected by ${reject.user_name}${reject.comment ? `: ${reject.comment}` : ''}`,
    };
  }
  const approvals = decisions.filter((decision) => decision.decision === 'approve');
  if (approvals.length >= approval.needed) {
    return {
      status: 'approved',
      jobStatus: 'passed',
      reason: `approved by ${approvals.map((decision) => decision.user_name).join(', ')}`,
    };
  }
  return undefined;
}
