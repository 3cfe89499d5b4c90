// Builds the NotificationMessage: the run as it is right now (inside the transaction that changed it), so a
// message delivered late still tells what happened when it happened.
import type { JobStatus, RunStatus } from '../engine/status.js';
import type { ApprovalRecord, DecisionRecord } from '../store/approvals.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import type { Language, MessageApproval, MessageJob, MessageReason, NotificationMessage } from './message.js';

export interface SnapshotInput {
  run: RunRecord;
  jobs: JobRecord[];
  runUrl: string;
  reason: MessageReason;
  status: RunStatus | JobStatus;
  previous?: RunStatus | null;
  language: Language;
  job?: JobRecord | undefined;
  approval?: { record: ApprovalRecord; decisions: DecisionRecord[] } | undefined;
  custom?: NotificationMessage['custom'];
}

export function snapshot(input: SnapshotInput): NotificationMessage {
  const { run, jobs } = input;
  const stages: NotificationMessage['stages'] = [];
  for (const job of [...jobs].sort((a, b) => a.stage_index - b.stage_index || a.job_index - b.job_index)) {
    let stage = stages.at(-1);
    if (stage?.name !== job.stage_name) {
      stage = { name: job.stage_name, jobs: [] };
      stages.push(stage);
    }
    stage.jobs.push(messageJob(job));
  }
  const finished = run.finished_at ? new Date(run.finished_at) : null;
  const created = new Date(run.created_at);
  return {
    reason: input.reason,
    status: input.status,
    ...(input.previous !== undefined ? { previous: input.previous } : {}),
    language: input.language,
    workflow: run.workflow_name,
    run: {
      id: run.id,
      number: run.number,
      url: input.runUrl,
      triggered_by: run.triggered_by_name,
      created_at: created.toISOString(),
      finished_at: finished?.toISOString() ?? null,
      duration_ms: finished ? finished.getTime() - created.getTime() : null,
      reason: run.reason,
      params: run.params,
    },
    stages,
    ...(input.job ? { job: messageJob(input.job) } : {}),
    ...(input.approval
      ? {
          approval: messageApproval(
            input.approval.record,
            input.approval.decisions,
            jobs.find((job) => job.id === input.approval!.record.job_id)?.name ?? '',
          ),
        }
      : {}),
    ...(input.custom ? { custom: input.custom } : {}),
  };
}

function messageJob(job: JobRecord): MessageJob {
  const started = job.started_at ? new Date(job.started_at).getTime() : null;
  const finished = job.finished_at ? new Date(job.finished_at).getTime() : null;
  return {
    name: job.name,
    stage: job.stage_name,
    type: job.type,
    status: job.status,
    duration_ms: started !== null && finished !== null ? finished - started : null,
    reason: job.reason,
  };
}

function messageApproval(
  approval: ApprovalRecord,
  decisions: DecisionRecord[],
  jobName: string,
): MessageApproval {
  const base = {
    job: jobName,
    platform: approval.kind as MessageApproval['platform'],
    status: approval.status,
    deadline: new Date(approval.deadline).toISOString(),
    vendor_link: approval.vendor_link,
  };
  const state = approval.vendor_state;
  if (approval.kind !== 'native' && state) {
    const current = state.nodes.find((node) => node.status === 'pending');
    return {
      ...base,
      waiting_for:
        approval.status === 'pending' && current
          ? current.approvers.filter((a) => a.decision === 'pending').map((a) => a.name ?? a.id)
          : [],
      nodes: state.nodes.map((node) => ({
        type: node.type,
        status: node.status,
        approvers: node.approvers.map((a) => ({
          name: a.name ?? a.id,
          decision: a.decision,
          comment: a.comment ?? null,
          decided_at: a.decided_at ?? null,
        })),
      })),
    };
  }
  // Native approvals (and vendor ones not read back yet): one node of the listed approvers.
  const byUser = new Map(decisions.map((decision) => [decision.user_id, decision]));
  const approvers = approval.approvers.map((approver) => {
    const decision = byUser.get(approver.user_id);
    return {
      name: approver.name,
      decision: decision ? (decision.decision === 'approve' ? 'approved' : 'rejected') : 'pending',
      comment: decision?.comment ?? null,
      decided_at: decision ? new Date(decision.decided_at).toISOString() : null,
    } as const;
  });
  return {
    ...base,
    waiting_for:
      approval.status === 'pending'
        ? approvers.filter((a) => a.decision === 'pending').map((a) => a.name)
        : [],
    nodes: [
      {
        type: approval.needed >= approval.approvers.length ? 'AND' : 'OR',
        status:
          approval.status === 'pending'
            ? 'pending'
            : approval.status === 'approved'
              ? 'approved'
              : 'rejected',
        approvers,
      },
    ],
  };
}
