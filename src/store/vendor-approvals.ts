// What ties an approval to the vendor: the cached definitions per (app, shape), and the instance's
// progress on the approval row (attempt, instance id, last state read, next poll).
import type { InstanceState } from '../providers/approvals.js';
import type { ApprovalRecord, VendorRequest } from './approvals.js';
import type { Queryable } from './db.js';

export type DefinitionClaim = { code: string } | { claimed: true } | { busy: true };

/**
 * The definition of `shape` for an app: its code when known; `claimed` when the caller must create it
 * (nobody had, or the one who had claimed it went quiet for `staleMs`); `busy` while someone else is.
 */
export async function claimDefinition(
  db: Queryable,
  appId: string,
  shapeKey: string,
  staleMs: number,
): Promise<DefinitionClaim> {
  const inserted = await db.query(
    `insert into im_approval_definitions (im_app_id, shape_key) values ($1, $2)
     on conflict do nothing returning shape_key`,
    [appId, shapeKey],
  );
  if (inserted.length > 0) return { claimed: true };
  const [row] = await db.query<{ code: string | null; stale: boolean }>(
    `select code, claimed_at < now() - make_interval(secs => $3::float8 / 1000) as stale
     from im_approval_definitions where im_app_id = $1 and shape_key = $2`,
    [appId, shapeKey, staleMs],
  );
  if (!row) return claimDefinition(db, appId, shapeKey, staleMs); // deleted meanwhile: try again
  if (row.code) return { code: row.code };
  if (!row.stale) return { busy: true };
  const taken = await db.query(
    `update im_approval_definitions set claimed_at = now()
     where im_app_id = $1 and shape_key = $2 and code is null
       and claimed_at < now() - make_interval(secs => $3::float8 / 1000) returning shape_key`,
    [appId, shapeKey, staleMs],
  );
  return taken.length > 0 ? { claimed: true } : { busy: true };
}

export async function saveDefinition(db: Queryable, appId: string, shapeKey: string, code: string) {
  await db.query(
    `update im_approval_definitions set code = $3, created_at = now() where im_app_id = $1 and shape_key = $2`,
    [appId, shapeKey, code],
  );
}

/** Gives up a claim after a failed create, so the next attempt (ours or another's) starts afresh. */
export async function releaseDefinition(db: Queryable, appId: string, shapeKey: string) {
  await db.query(
    'delete from im_approval_definitions where im_app_id = $1 and shape_key = $2 and code is null',
    [appId, shapeKey],
  );
}

/**
 * The vendor says `code` is gone: forget it and claim the re-creation. True for the one caller that gets
 * to recreate it; others see the new code (or a busy claim) on their next `claimDefinition`.
 */
export async function reclaimGoneDefinition(
  db: Queryable,
  appId: string,
  shapeKey: string,
  code: string,
): Promise<boolean> {
  const rows = await db.query(
    `update im_approval_definitions set code = null, created_at = null, claimed_at = now()
     where im_app_id = $1 and shape_key = $2 and code = $3 returning shape_key`,
    [appId, shapeKey, code],
  );
  return rows.length > 0;
}

/** Written (and committed) before the vendor is asked to create the instance. */
export async function markCreateAttempt(db: Queryable, id: number, request: VendorRequest) {
  await db.query(
    `update approvals set vendor_request = $2, create_attempted_at = coalesce(create_attempted_at, now())
     where id = $1`,
    [id, JSON.stringify(request)],
  );
}

/** First writer wins; false when the approval already had an instance. */
export async function recordInstance(
  db: Queryable,
  id: number,
  instanceId: string,
  link: string | null,
  firstPollAt: Date,
): Promise<boolean> {
  const rows = await db.query(
    `update approvals set vendor_instance_id = $2, vendor_link = $3, next_poll_at = $4
     where id = $1 and vendor_instance_id is null returning id`,
    [id, instanceId, link, firstPollAt],
  );
  return rows.length > 0;
}

/**
 * Keeps the latest read of a pending instance. A read that started before the one already saved is older
 * news (two syncs raced) and is dropped.
 */
export async function saveVendorState(db: Queryable, id: number, state: InstanceState, readAt: Date) {
  await db.query(
    `update approvals set vendor_state = $2, vendor_status = $3, vendor_link = coalesce($4, vendor_link),
       last_synced_at = $5
     where id = $1 and (last_synced_at is null or last_synced_at <= $5)`,
    [id, JSON.stringify(state), state.vendor_status, state.link ?? null, readAt],
  );
}

export async function setApprovers(
  db: Queryable,
  id: number,
  approvers: { user_id: string; name: string }[],
) {
  await db.query('update approvals set approvers = $2 where id = $1', [id, JSON.stringify(approvers)]);
}

export async function setStatusText(db: Queryable, id: number, text: string | null) {
  await db.query('update approvals set status_text = $2 where id = $1', [id, text]);
}

/** Of these (app, instance) pairs, the ones a pending approval waits on: one query for a burst of events. */
export async function pendingByInstances(
  db: Queryable,
  pairs: { appId: string; instanceId: string }[],
): Promise<Pick<ApprovalRecord, 'id' | 'im_app_id' | 'vendor_instance_id'>[]> {
  if (pairs.length === 0) return [];
  return db.query(
    `select a.id, a.im_app_id, a.vendor_instance_id from approvals a
     join unnest($1::text[], $2::text[]) as e(app, instance)
       on a.im_app_id = e.app and a.vendor_instance_id = e.instance
     where a.status = 'pending'`,
    [pairs.map((pair) => pair.appId), pairs.map((pair) => pair.instanceId)],
  );
}

/**
 * Makes every waiting instance of one app due for a reconcile poll now: its event connection just opened,
 * and events sent while none was open (a holder that died, a restart) may never come.
 */
export async function pollAppNow(db: Queryable, appId: string): Promise<number> {
  const rows = await db.query(
    `update approvals set next_poll_at = now()
     where im_app_id = $1 and status = 'pending' and vendor_instance_id is not null and next_poll_at > now()
     returning id`,
    [appId],
  );
  return rows.length;
}

/** Pending vendor approvals whose next poll is due, oldest first: at most `perApp` of each IM app. */
export async function dueForPoll(db: Queryable, now: Date, perApp: number) {
  return db.query<Pick<ApprovalRecord, 'id' | 'im_app_id' | 'polls' | 'next_poll_at'>>(
    `select id, im_app_id, polls, next_poll_at from (
       select id, im_app_id, polls, next_poll_at,
              row_number() over (partition by im_app_id order by next_poll_at) as rank
       from approvals
       where status = 'pending' and vendor_instance_id is not null and next_poll_at <= $1) due
     where rank <= $2 order by next_poll_at`,
    [now, perApp],
  );
}

/**
 * Claims one due poll by moving its time on; false when another instance claimed it first (it moved the
 * time past `now`). "Still due at `now`" rather than "still equal to the time read": the time read comes
 * back through a JS Date, cut to milliseconds, so a time written with microseconds (`now()`, as the engine
 * does at start) never compared equal on PostgreSQL and that poll was never claimed.
 */
export async function claimPoll(db: Queryable, id: number, now: Date, next: Date): Promise<boolean> {
  const rows = await db.query(
    `update approvals set next_poll_at = $3, polls = polls + 1 where id = $1 and next_poll_at <= $2 returning id`,
    [id, now, next],
  );
  return rows.length > 0;
}

export async function markReminded(db: Queryable, id: number): Promise<boolean> {
  const rows = await db.query(
    `update approvals set reminded_at = now() where id = $1 and reminded_at is null and status = 'pending'
     returning id`,
    [id],
  );
  return rows.length > 0;
}

/** The job's status text, for what happened after it ended (e.g. the vendor could not withdraw it). */
export async function appendJobReason(db: Queryable, jobId: number, text: string) {
  await db.query(
    `update jobs set reason = case when reason is null or reason = '' then $2 else reason || ' — ' || $2 end
     where id = $1`,
    [jobId, text],
  );
}
