// Runs and their jobs. State changes are conditional updates (`where status = …`), so two paths racing
// to move the same job (a fast path and the queue, or two instances) can never both win.
import type { JobStatus, RunStatus } from '../engine/status.js';
import type { Workflow } from '../engine/workflow-spec.js';
import { AppError } from '../errors.js';
import type { Queryable } from './db.js';

export interface RunRecord {
  id: number;
  workflow_name: string;
  number: number;
  spec: Workflow;
  params: Record<string, string>;
  status: RunStatus;
  reason: string | null;
  triggered_by: string | null;
  triggered_by_name: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface JobRecord {
  id: number;
  run_id: number;
  stage_index: number;
  stage_name: string;
  job_index: number;
  name: string;
  type: string;
  status: JobStatus;
  reason: string | null;
  outputs: Record<string, string>;
  attempts: number;
  instance_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export async function insertRun(
  db: Queryable,
  input: { spec: Workflow; params: Record<string, string>; triggeredBy: { id: string; name: string } | null },
): Promise<RunRecord> {
  // Runs of one workflow are numbered one after another: concurrent starts wait for each other here
  // (until their transactions end) instead of both reading the same max(number). Callers are in a transaction.
  await db.query('select pg_advisory_xact_lock(hashtext($1))', [`run-number:${input.spec.name}`]);
  const [run] = await db.query<RunRecord>(
    `insert into runs (workflow_name, number, spec, params, status, triggered_by, triggered_by_name, started_at)
     values ($1, coalesce((select max(number) from runs where workflow_name = $1), 0) + 1, $2, $3, 'running', $4, $5, clock_timestamp())
     returning *`,
    [
      input.spec.name,
      JSON.stringify(input.spec),
      JSON.stringify(input.params),
      input.triggeredBy?.id ?? null,
      input.triggeredBy?.name ?? null,
    ],
  );
  const values: unknown[] = [];
  const rows: string[] = [];
  input.spec.stages.forEach((stage, stageIndex) => {
    stage.jobs.forEach((job, jobIndex) => {
      const n = values.length;
      rows.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, 'pending')`);
      values.push(run!.id, stageIndex, stage.name, jobIndex, job.name, job.type);
    });
  });
  await db.query(
    `insert into jobs (run_id, stage_index, stage_name, job_index, name, type, status) values ${rows.join(', ')}`,
    values as never[],
  );
  return run!;
}

export async function lockRun(db: Queryable, runId: number): Promise<RunRecord | undefined> {
  const [run] = await db.query<RunRecord>('select * from runs where id = $1 for update', [runId]);
  return run;
}

export async function findRun(db: Queryable, runId: number): Promise<RunRecord | undefined> {
  const [run] = await db.query<RunRecord>('select * from runs where id = $1', [runId]);
  return run;
}

export async function getRun(db: Queryable, runId: number): Promise<RunRecord> {
  const run = await findRun(db, runId);
  if (!run) throw new AppError('not_found', `No run ${runId}.`);
  return run;
}

export interface RunFilter {
  workflow?: string | undefined;
  status?: RunStatus | undefined;
  limit?: number | undefined;
  before?: number | undefined;
}

export async function listRuns(db: Queryable, filter: RunFilter = {}): Promise<RunRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.workflow) where.push(`workflow_name = $${params.push(filter.workflow)}`);
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.before !== undefined) where.push(`id < $${params.push(filter.before)}`);
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  return db.query<RunRecord>(
    `select * from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit ${limit}`,
    params as never[],
  );
}

export async function setRunStatus(
  db: Queryable,
  runId: number,
  status: RunStatus,
  reason: string | null,
  finished: boolean,
): Promise<void> {
  await db.query(
    `update runs set status = $2, reason = coalesce($3, reason), finished_at = case when $4 then clock_timestamp() else finished_at end
     where id = $1`,
    [runId, status, reason, finished],
  );
}

export async function jobsOfRun(db: Queryable, runId: number): Promise<JobRecord[]> {
  return db.query<JobRecord>('select * from jobs where run_id = $1 order by stage_index, job_index', [runId]);
}

export async function jobsOfRuns(db: Queryable, runIds: number[]): Promise<JobRecord[]> {
  if (runIds.length === 0) return [];
  return db.query<JobRecord>(
    'select * from jobs where run_id = any($1::int[]) order by run_id, stage_index, job_index',
    [runIds],
  );
}

export async function findJob(db: Queryable, jobId: number): Promise<JobRecord | undefined> {
  const [job] = await db.query<JobRecord>('select * from jobs where id = $1', [jobId]);
  return job;
}

export async function findJobByName(db: Queryable, runId: number, name: string): Promise<JobRecord> {
  const [job] = await db.query<JobRecord>('select * from jobs where run_id = $1 and name = $2', [
    runId,
    name,
  ]);
  if (!job) throw new AppError('not_found', `Run ${runId} has no job named ${name}.`);
  return job;
}

/**
 * Moves a job from one of `from` to `to`. Returns the job if this caller won the transition, undefined if
 * the job had already moved on (someone else claimed it, or the run was cancelled). With `claimedBy`, only
 * while that instance (null: none) still holds the job.
 */
export async function transitionJob(
  db: Queryable,
  jobId: number,
  from: readonly JobStatus[],
  to: JobStatus,
  changes: {
    reason?: string | null;
    outputs?: Record<string, string>;
    instanceId?: string | null;
    claimedBy?: string | null;
  } = {},
): Promise<JobRecord | undefined> {
  const starting = to === 'running' || to === 'waiting_for_approval';
  const finishing = !starting && to !== 'queued' && to !== 'pending';
  const [job] = await db.query<JobRecord>(
    `update jobs set status = $3,
       reason = case when $4::boolean then $5 else reason end,
       outputs = coalesce($6::jsonb, outputs),
       instance_id = case when $7::boolean then $8 else instance_id end,
       attempts = attempts + case when $3 = 'running' then 1 else 0 end,
       started_at = case when $9::boolean then coalesce(started_at, clock_timestamp()) else started_at end,
       finished_at = case when $10::boolean then clock_timestamp() else finished_at end
     where id = $1 and status = any($2::text[])
       and (not $11::boolean or instance_id is not distinct from $12) returning *`,
    [
      jobId,
      from as string[],
      to,
      changes.reason !== undefined,
      changes.reason ?? null,
      changes.outputs ? JSON.stringify(changes.outputs) : null,
      changes.instanceId !== undefined,
      changes.instanceId ?? null,
      starting,
      finishing,
      changes.claimedBy !== undefined,
      changes.claimedBy ?? null,
    ],
  );
  return job;
}
