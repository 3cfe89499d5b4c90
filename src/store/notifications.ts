// The notification outbox. A row is inserted in the transaction that changed the run (so "it happened" and
// "tell people" commit together), claimed by exactly one sender at a time with a conditional update, and
// ends delivered, failed or skipped. `dedup_key` makes emitting the same event twice a no-op.
import type { NotificationMessage } from '../notifications/message.js';
import type { Queryable } from './db.js';

export type NotificationStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'skipped';

export interface NotificationRecord {
  id: number;
  run_id: number;
  job_id: number | null;
  source: string;
  reason: string;
  channel: string;
  target: string;
  im_app_id: string | null;
  recipient: Record<string, unknown>;
  sealed: string | null;
  message: NotificationMessage;
  action: 'send' | 'update';
  updates_id: number | null;
  dedup_key: string;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: Date;
  claimed_by: string | null;
  claimed_at: Date | null;
  last_error: string | null;
  vendor_message_id: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export type NewNotification = Pick<
  NotificationRecord,
  | 'run_id'
  | 'job_id'
  | 'source'
  | 'reason'
  | 'channel'
  | 'target'
  | 'im_app_id'
  | 'recipient'
  | 'sealed'
  | 'message'
  | 'dedup_key'
> & { action?: 'send' | 'update'; updates_id?: number | null };

/** Inserts the message unless one with the same dedup key exists; returns its id only when new. */
export async function insertNotification(db: Queryable, row: NewNotification): Promise<number | undefined> {
  const [inserted] = await db.query<{ id: number }>(
    `insert into notifications (run_id, job_id, source, reason, channel, target, im_app_id, recipient, sealed,
       message, dedup_key, action, updates_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (dedup_key) do nothing
     returning id`,
    [
      row.run_id,
      row.job_id,
      row.source,
      row.reason,
      row.channel,
      row.target,
      row.im_app_id,
      JSON.stringify(row.recipient),
      row.sealed,
      JSON.stringify(row.message),
      row.dedup_key,
      row.action ?? 'send',
      row.updates_id ?? null,
    ],
  );
  return inserted?.id;
}

/**
 * Takes the row for sending if it is due and nobody holds it (or its holder stopped answering: a claim
 * older than `staleMs` is taken over). Counts the attempt.
 */
export async function claimNotification(
  db: Queryable,
  id: number,
  instanceId: string,
  staleMs: number,
): Promise<NotificationRecord | undefined> {
  const [row] = await db.query<NotificationRecord>(
    `update notifications set status = 'sending', attempts = attempts + 1, claimed_by = $2,
       claimed_at = clock_timestamp()
     where id = $1 and ((status = 'pending' and next_attempt_at <= clock_timestamp() + interval '100 milliseconds')
       or (status = 'sending' and claimed_at < clock_timestamp() - $3 * interval '1 millisecond'))
     returning *`,
    [id, instanceId, staleMs],
  );
  return row;
}

export async function findNotification(db: Queryable, id: number): Promise<NotificationRecord | undefined> {
  const [row] = await db.query<NotificationRecord>('select * from notifications where id = $1', [id]);
  return row;
}

/** Back to pending until `at`; `countAttempt: false` when it never went out (waiting for a rate slot). */
export async function releaseNotification(
  db: Queryable,
  id: number,
  at: Date,
  error: string | null,
  countAttempt: boolean,
): Promise<void> {
  await db.query(
    `update notifications set status = 'pending', next_attempt_at = $2, claimed_by = null, claimed_at = null,
       last_error = coalesce($3, last_error), attempts = attempts - case when $4 then 0 else 1 end
     where id = $1 and status = 'sending'`,
    [id, at, error, countAttempt],
  );
}

export async function finishNotification(
  db: Queryable,
  id: number,
  outcome:
    | { status: 'delivered'; vendorMessageId: string | null; note?: string | null }
    | { status: 'failed' | 'skipped'; error: string },
): Promise<void> {
  if (outcome.status === 'delivered') {
    await db.query(
      `update notifications set status = 'delivered', delivered_at = clock_timestamp(), vendor_message_id = $2,
         claimed_by = null, claimed_at = null, last_error = $3
       where id = $1 and status = 'sending'`,
      [id, outcome.vendorMessageId, outcome.note ?? null],
    );
    return;
  }
  await db.query(
    `update notifications set status = $2, last_error = $3, claimed_by = null, claimed_at = null
     where id = $1 and status in ('sending', 'pending')`,
    [id, outcome.status, outcome.error],
  );
}

/**
 * Rows whose sender is gone (a crashed instance, one that stopped, or a claim held far longer than any
 * send takes): back to pending, to be sent again.
 */
export async function releaseAbandoned(
  db: Queryable,
  deadInstances: string[],
  staleMs: number,
): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `update notifications set status = 'pending', claimed_by = null, claimed_at = null, next_attempt_at = now()
     where status = 'sending' and (claimed_by = any($1::text[])
       or not exists (select 1 from instances i where i.id = notifications.claimed_by)
       or claimed_at < clock_timestamp() - $2 * interval '1 millisecond')
     returning id`,
    [deadInstances, staleMs],
  );
  return rows.map((row) => row.id);
}

/** Pending rows whose time has come long ago: their queue job was lost or is late; send them now. */
export async function overdueNotifications(db: Queryable, olderThanMs: number): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `select id from notifications where status = 'pending'
       and next_attempt_at < clock_timestamp() - $1 * interval '1 millisecond'
     order by id limit 500`,
    [olderThanMs],
  );
  return rows.map((row) => row.id);
}

export async function notificationsOfRun(db: Queryable, runId: number): Promise<NotificationRecord[]> {
  return db.query<NotificationRecord>('select * from notifications where run_id = $1 order by id', [runId]);
}

export async function notificationsOfJob(db: Queryable, jobId: number): Promise<NotificationRecord[]> {
  return db.query<NotificationRecord>(
    `select * from notifications where job_id = $1 and source = 'job' order by id`,
    [jobId],
  );
}

export interface NotificationFilter {
  status?: NotificationStatus;
  channel?: string;
  before?: number;
  limit?: number;
}

export async function listNotifications(
  db: Queryable,
  filter: NotificationFilter = {},
): Promise<NotificationRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.channel) where.push(`channel = $${params.push(filter.channel)}`);
  if (filter.before !== undefined) where.push(`id < $${params.push(filter.before)}`);
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  return db.query<NotificationRecord>(
    `select * from notifications ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit ${limit}`,
    params as never[],
  );
}

/** Sent approval-waiting cards of a job that can be updated in place (Feishu/Lark app messages). */
export async function updatableCards(db: Queryable, jobId: number): Promise<NotificationRecord[]> {
  return db.query<NotificationRecord>(
    `select * from notifications where job_id = $1 and reason = 'wait_for_approval' and action = 'send'
       and channel in ('feishu_app', 'lark_app') and status in ('pending', 'sending', 'delivered')
     order by id`,
    [jobId],
  );
}
