// Per-destination rate limits shared by every instance on the database: a sliding log of send times per
// key (a Feishu chat, a DingTalk robot, an app). Taking a slot locks the keys (advisory, in sorted order so
// two takers never deadlock), counts the sends inside each window, and either records this send at `now`
// or says how long to wait. Nothing sleeps while holding a lock.
import type { RateLimit } from '../providers/rate-limiter.js';
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

/** Records a send for every key and returns 0, or returns how many ms to wait before asking again. */
export async function takeRateSlot(db: Db, keys: readonly RateKey[], now: number): Promise<number> {
  if (keys.length === 0) return 0;
  const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return db.transaction(async (tx) => {
    for (const { key } of sorted) await tx.query('select pg_advisory_xact_lock(hashtext($1))', [key]);
    let waitMs = 0;
    for (const { key, limits } of sorted) {
      for (const { limit, windowMs } of limits) {
        const window = windowMs + marginMs(windowMs);
        // The `limit`-th most recent send inside the window: while it is inside, the window is full.
        const [blocking] = await tx.query<{ at: number }>(
          `select at::float8 as at from rate_log where key = $1 and at > $2 order by at desc offset $3 limit 1`,
          [key, now - window, limit - 1],
        );
        if (blocking) waitMs = Math.max(waitMs, Number(blocking.at) + window - now + 1);
      }
    }
    if (waitMs > 0) return waitMs;
    for (const { key } of sorted)
      await tx.query('insert into rate_log (key, at) values ($1, $2)', [key, now]);
    return 0;
  });
}

/** Forgets sends older than every window. */
export async function pruneRateLog(db: Db, now: number): Promise<void> {
  await db.query('delete from rate_log where at < $1', [now - longestWindowMs - marginMs(longestWindowMs)]);
}
