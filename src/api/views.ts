// Store records as API callers see them: snake_case JSON, ISO times, durations, stages with their jobs.
import { runUrl } from '../engine/run-context.js';
import type { JobStatus } from '../engine/status.js';
import {
  type ApprovalRecord,
  approvalsOfRuns,
  type DecisionRecord,
  decisionsOf,
} from '../store/approvals.js';
import type { Queryable } from '../store/db.js';
import { type JobRecord, jobsOfRuns, type RunRecord } from '../store/runs.js';
import type { TokenInfo, User } from '../store/users.js';
import type { WorkflowRecord } from '../store/workflows.js';

const iso = (date: Date | null): string | null => (date ? new Date(date).toISOString() : null);
const isoNow = (date: Date): string => new Date(date).toISOString();
const duration = (start: Date | null, end: Date | null): number | null =>
  start ? Math.max(0, (end ? new Date(end).getTime() : Date.now()) - new Date(start).getTime()) : null;

export function userView(user: User) {
  return { ...user, created_at: isoNow(user.created_at) };
}

export function tokenView(info: TokenInfo) {
  return { ...info, created_at: isoNow(info.created_at), last_used_at: iso(info.last_used_at) };
}

export function workflowSummaryView(workflow: WorkflowRecord) {
  return {
    name: workflow.name,
    description: workflow.spec.description ?? null,
    version: workflow.version,
    stages: workflow.spec.stages.map((stage) => ({
      name: stage.name,
      jobs: stage.jobs.map((job) => ({ name: job.name, type: job.type })),
    })),
    params: (workflow.spec.params ?? []).map((param) => ({
      name: param.name,
      default: param.default ?? null,
      required: param.required ?? false,
      description: param.description ?? null,
    })),
    created_at: isoNow(workflow.created_at),
    updated_at: isoNow(workflow.updated_at),
  };
}

export function workflowView(workflow: WorkflowRecord) {
  return {
    ...workflowSummaryView(workflow),
    source: workflow.source,
    spec: workflow.spec as unknown as Record<string, unknown>,
  };
}

export function runSummaryView(run: RunRecord, publicUrl: string) {
  return {
    id: run.id,
    workflow: run.workflow_name,
    number: run.number,
    status: run.status,
    reason: run.reason,
    params: run.params,
    triggered_by: run.triggered_by_name,
    created_at: isoNow(run.created_at),
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    duration_ms: duration(run.started_at, run.finished_at),
    url: runUrl(publicUrl, run.id),
  };
}

export function approvalView(
  approval: ApprovalRecord,
  decisions: DecisionRecord[],
  run: { workflow: string; job: string },
) {
  return {
    id: approval.id,
    run_id: approval.run_id,
    workflow: run.workflow,
    job: run.job,
    kind: approval.kind,
    status: approval.status,
    needed: approval.needed,
    approvers: approval.approvers,
    decisions: decisions
      .filter((decision) => decision.approval_id === approval.id)
      .map(({ approval_id: _, ...decision }) => ({ ...decision, decided_at: isoNow(decision.decided_at) })),
    description: approval.description,
    deadline: isoNow(approval.deadline),
    timeout_outcome: approval.timeout_outcome,
    created_at: isoNow(approval.created_at),
    decided_at: iso(approval.decided_at),
    vendor: vendorView(approval),
  };
}

function vendorView(approval: ApprovalRecord) {
  if (approval.kind === 'native' || !approval.im_app_id) return null;
  const requested = approval.vendor_request?.nodes ?? [];
  // Vendors list a node's approvers only once the flow reaches it: until then, those we asked for.
  const nodes = requested.length
    ? requested.map((node, index) => {
        const read = approval.vendor_state?.nodes[index];
        const status = read?.status ?? (index === 0 ? 'pending' : 'waiting');
        return read?.approvers.length
          ? read
          : {
              type: node.type,
              status,
              approvers: node.approvers.map(
                (id) => ({ id, decision: status === 'waiting' ? 'waiting' : 'pending' }) as const,
              ),
            };
      })
    : (approval.vendor_state?.nodes ?? []);
  const names = new Map(approval.approvers.map((approver) => [approver.user_id, approver.name]));
  return {
    platform: approval.kind as 'feishu' | 'lark' | 'dingtalk' | 'wecom',
    im_app_id: approval.im_app_id,
    instance_id: approval.vendor_instance_id,
    status: approval.vendor_status,
    link: approval.vendor_link,
    status_text: approval.status_text,
    nodes: nodes.map((node) => ({
      type: node.type,
      status: node.status,
      approvers: node.approvers.map((approver) => ({
        id: approver.id,
        name: ('name' in approver ? approver.name : undefined) ?? names.get(approver.id) ?? null,
        avatar: ('avatar' in approver ? approver.avatar : undefined) ?? null,
        decision: approver.decision,
        comment: ('comment' in approver ? approver.comment : undefined) ?? null,
        decided_at: ('decided_at' in approver ? approver.decided_at : undefined) ?? null,
      })),
    })),
    last_synced_at: iso(approval.last_synced_at),
  };
}

/** Full runs: stages, jobs, and each approval job's waitpoint with its decisions. */
export async function runViews(db: Queryable, runs: RunRecord[], publicUrl: string) {
  const ids = runs.map((run) => run.id);
  const [jobs, approvals] = await Promise.all([jobsOfRuns(db, ids), approvalsOfRuns(db, ids)]);
  const decisions = await decisionsOf(
    db,
    approvals.map((approval) => approval.id),
  );
  return runs.map((run) => {
    const runJobs = jobs.filter((job) => job.run_id === run.id);
    const stages = new Map<number, { name: string; jobs: JobRecord[] }>();
    for (const job of runJobs) {
      const stage = stages.get(job.stage_index) ?? { name: job.stage_name, jobs: [] };
      stage.jobs.push(job);
      stages.set(job.stage_index, stage);
    }
    return {
      ...runSummaryView(run, publicUrl),
      stages: [...stages.values()].map((stage) => ({
        name: stage.name,
        status: stageStatus(stage.jobs.map((job) => job.status)),
        jobs: stage.jobs.map((job) => {
          const approval = approvals.find((candidate) => candidate.job_id === job.id);
          return {
            id: job.id,
            name: job.name,
            type: job.type,
            status: job.status,
            reason: job.reason,
            outputs: job.outputs,
            attempts: job.attempts,
            started_at: iso(job.started_at),
            finished_at: iso(job.finished_at),
            duration_ms: duration(job.started_at, job.finished_at),
            ...(approval
              ? {
                  approval: approvalView(approval, decisions, { workflow: run.workflow_name, job: job.name }),
                }
              : {}),
          };
        }),
      })),
    };
  });
}

/** A stage shows its most telling job status: a failure, else activity, else pending, else passed. */
function stageStatus(statuses: JobStatus[]): JobStatus {
  const order: JobStatus[] = [
    'failed',
    'rejected',
    'timeout',
    'cancelled',
    'running',
    'waiting_for_approval',
    'queued',
    'pending',
    'skipped',
    'passed',
  ];
  for (const status of order) if (statuses.includes(status)) return status;
  return 'pending';
}
