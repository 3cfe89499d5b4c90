// What a run should do next, decided from its jobs alone. Stages run in order; the jobs of a stage run in
// parallel. The first job to fail, be rejected, time out or be cancelled ends the run with that outcome:
// its unfinished siblings are cancelled (fail fast, so a run never hangs on an approval nobody needs any
// more) and the later stages are skipped.
import type { JobRecord } from '../store/runs.js';
import { isFailure, isFinalJob, type RunStatus } from './status.js';

export type PlanJob = Pick<
  JobRecord,
  'id' | 'name' | 'stage_index' | 'job_index' | 'status' | 'reason' | 'finished_at'
>;

export interface RunPlan {
  start: number[];
  cancel: { id: number; reason: string }[];
  skip: number[];
  status: RunStatus;
  reason: string | null;
}

export function planRun(jobs: readonly PlanJob[]): RunPlan {
  const failure = firstFailure(jobs);
  if (failure) {
    const why = `${failure.name} ${failure.status.replaceAll('_', ' ')}`;
    return {
      start: [],
      cancel: jobs
        .filter(
          (job) =>
            job.status === 'queued' || job.status === 'running' || job.status === 'waiting_for_approval',
        )
        .map((job) => ({ id: job.id, reason: `cancelled: ${why}` })),
      skip: jobs.filter((job) => job.status === 'pending').map((job) => job.id),
      status: failure.status as RunStatus,
      reason: failure.reason ? `${failure.name}: ${failure.reason}` : why,
    };
  }
  const unfinished = jobs.filter((job) => !isFinalJob(job.status));
  if (unfinished.length === 0) return { start: [], cancel: [], skip: [], status: 'passed', reason: null };
  const stage = Math.min(...unfinished.map((job) => job.stage_index));
  const start = unfinished
    .filter((job) => job.stage_index === stage && job.status === 'pending')
    .map((job) => job.id);
  const waitingOnly =
    start.length === 0 &&
    unfinished.every((job) => job.status === 'waiting_for_approval' || job.status === 'pending');
  return {
    start,
    cancel: [],
    skip: [],
    status: waitingOnly ? 'waiting_for_approval' : 'running',
    reason: null,
  };
}

function firstFailure(jobs: readonly PlanJob[]): PlanJob | undefined {
  const failed = jobs.filter((job) => isFailure(job.status));
  failed.sort(
    (a, b) =>
      (a.finished_at?.getTime() ?? Number.MAX_SAFE_INTEGER) -
        (b.finished_at?.getTime() ?? Number.MAX_SAFE_INTEGER) ||
      Number(a.status === 'cancelled') - Number(b.status === 'cancelled') ||
      a.stage_index - b.stage_index ||
      a.job_index - b.job_index,
  );
  return failed[0];
}
