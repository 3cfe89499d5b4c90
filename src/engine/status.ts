// The states a run and its jobs move through. A terminal state is never left.

export const finalJobStatuses = ['passed', 'failed', 'rejected', 'timeout', 'cancelled', 'skipped'] as const;
export const jobStatuses = [
  'pending',
  'queued',
  'running',
  'waiting_for_approval',
  ...finalJobStatuses,
] as const;
export type JobStatus = (typeof jobStatuses)[number];

export const finalRunStatuses = ['passed', 'failed', 'rejected', 'timeout', 'cancelled'] as const;
export const runStatuses = ['running', 'waiting_for_approval', ...finalRunStatuses] as const;
export type RunStatus = (typeof runStatuses)[number];
export type RunOutcome = (typeof finalRunStatuses)[number];

export function isFinalJob(status: JobStatus): boolean {
  return (finalJobStatuses as readonly string[]).includes(status);
}

export function isFinalRun(status: RunStatus): status is RunOutcome {
  return (finalRunStatuses as readonly string[]).includes(status);
}

/** A finished job that stops the run: everything but passed and skipped. */
export function isFailure(status: JobStatus): boolean {
  return status === 'failed' || status === 'rejected' || status === 'timeout' || status === 'cancelled';
}
