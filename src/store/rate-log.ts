// Per-destination rate limits shared by every instance on the database: a sliding log of send times per
// key (a Feishu chat, a DingTalk robot, an app). Taking a slot locks the keys (advisory, in sorted order so
// two takers never deadlock), counts the sends inside each window, and either records this send at `now`
// or says how long to wait. Nothing sleeps while holding a lock.
import type { RateLimit, RateLimiter } from '../providers/rate-limiter.js';
import type { Db } from './db.js';

export interface RateKey {
  key: string;
  limits: readonly RateLimit[];
}

/** The longest window any limit uses (WeCom: 1000 an hour to one member); older sends are forgotten. */
export const longestWindowMs = 3_600_000;

/**
 * Every window is stretched by this much (at least 100 ms, 1 % of the window): the vendor counts arrival
 * times, ours are send times, and the difference jitters by a few milliseconds.
 */
export function marginMs(windowMs: number): number {
  return Math.max(100, Math.round(windowMs / 100));
}

/** A request still in flight after this long is taken to have died with its process (request timeout ×3). */
const inFlightForMs = 30_000;
/** How soon to look again when the window is full of requests still in flight (they end within a moment). */
const inFlightRetryMs = 250;

/**
 * Records a send (in flight; with `inFlight: false`, as sent at `now`) for every key and returns 0, or
 * returns how many ms to wait before asking again. A send in flight counts as happening now, whatever time its slot was taken: the vendor has not
 * seen it yet, so a window counted from the take could let the next batch arrive too close behind it.
 */
export async function takeRateSlot(
  db: Db,
  keys: readonly RateKey[],
  now: number,
  options: { inFlight?: boolean } = {},
): Promise<number> {
  const recordInFlight = options.inFlight ?? true;
  if (keys.length === 0) return 0;
  const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return db.transaction(async (tx) => {
    for (const { key } of sorted) await tx.query('select pg_advisory_xact_lock(hashtext($1))', [key]);
    let waitMs = 0;
    for (const { key, limits } of sorted) {
      const [flying] = await tx.query<{ count: number }>(
        'select count(*)::int as count from rate_log where key = $1 and in_flight and at > $2',
        [key, now - inFlightForMs],
      );
      const inFlight = flying?.count ?? 0;
      for (const { limit, windowMs } of limits) {
        if (inFlight >= limit) {
          waitMs = Math.max(waitMs, inFlightRetryMs);
          continue;
        }
        const window = windowMs + marginMs(windowMs);
        // Of the sends that ended, the (limit − in flight)-th most recent: while it is inside the window,
        // the window is full.
        const [blocking] = await tx.query<{ at: number }>(
          `select at::float8 as at from rate_log where key = $1 and not in_flight and at > $2
           order by at desc offset $3 limit 1`,
          [key, now - window, limit - inFlight - 1],
        );
        if (blocking) waitMs = Math.max(waitMs, Number(blocking.at) + window - now + 1);
      }
    }
    if (waitMs > 0) return waitMs;
    for (const { key } of sorted)
      await tx.query('insert into rate_log (key, at, in_flight) values ($1, $2, $3)', [
        key,
        now,
        recordInFlight,
      ]);
    return 0;
  });
}

/**
 * The vendor API limiter (providers/rate-limiter.ts) for every instance on one PostgreSQL database: each
 * call takes a slot here, so N instances together keep to the vendor's limits. A call counts from the
 * moment it is let go (as in the in-process limiter), not in flight: its keys are the API's, never a
 * notification's, and `markSent` is not called for them.
 */
export function databaseRateLimiter(
  db: Db,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): RateLimiter {
  return {
    async take(key, limits) {
      const keys = [{ key: `api:${key}`, limits }];
      for (;;) {
        const waitMs = await takeRateSlot(db, keys, now(), { inFlight: false });
        if (waitMs <= 0) return;
        await sleep(waitMs);
      }
    },
  };
}

/**
 * The send is over: its entries move from the time the slot was taken to the time the send ended. The
 * vendor counts arrival times, which lie between the two; counted from the end, our window never starts
 * before the vendor's.
 */
export async function markSent(
  db: Db,
  keys: readonly RateKey[],
  takenAt: number,
  sentAt: number,
): Promise<void> {
  for (const { key } of keys)
    await db.query(
      `update rate_log set at = $3, in_flight = false
       where ctid = (select ctid from rate_log where key = $1 and at = $2 and in_flight limit 1)`,
      [key, takenAt, sentAt],
    );
}

/** Forgets sends older than every window. */
export async function pruneRateLog(db: Db, now: number): Promise<void> {
  await db.query('delete from rate_log where at < $1', [now - longestWindowMs - marginMs(longestWindowMs)]);
}
