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
 * returns how many ms to wait before asking again. A send in flight counts as happening now, whatever time
 * its slot was taken: the vendor has not seen it yet, so a window counted from the take could let the next
 * batch arrive too close behind it.
 *
 * With `placeFor`, a sender that must wait keeps a place in line: a plan at the time its own slot opens,
 * counted like a send by everyone behind it. Fifty messages waiting on a robot that takes 20 a minute then
 * wake one by one as the slots open (the 21st a window after the 1st, the 41st a window after the 21st),
 * rather than all at the first opening, where one would win and the others would look again. A plan only
 * orders and times the waiters: when its owner comes back, the window is checked against the sends as
 * they really happened, and a sender whose slot is not open after all (its predecessor was late) plans
 * again. A plan whose owner never comes back counts as a send at its time until it is pruned.
 */
export async function takeRateSlot(
  db: Db,
  keys: readonly RateKey[],
  now: number,
  options: { inFlight?: boolean; placeFor?: string } = {},
): Promise<number> {
  const recordInFlight = options.inFlight ?? true;
  const owner = options.placeFor ?? null;
  if (keys.length === 0) return 0;
  const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return db.transaction(async (tx) => {
    for (const { key } of sorted) await tx.query('select pg_advisory_xact_lock(hashtext($1))', [key]);
    // Where this sender stands in line: plans made before its own are ahead of it (all of them, if it
    // has none).
    const [own] = owner
      ? await tx.query<{ at: number }>('select min(at)::float8 as at from rate_log where planned_by = $1', [
          owner,
        ])
      : [];
    const placeAt = own?.at === null || own?.at === undefined ? Number.MAX_SAFE_INTEGER : Number(own.at);
    let opensAt = now;
    let flyingFull = false;
    for (const { key, limits } of sorted) {
      const [flying] = await tx.query<{ count: number }>(
        'select count(*)::int as count from rate_log where key = $1 and in_flight and at > $2',
        [key, now - inFlightForMs],
      );
      const inFlight = flying?.count ?? 0;
      for (const { limit, windowMs } of limits) {
        if (inFlight >= limit) {
          // Full of sends still in flight: they end within moments, and only then is it known when the
          // window opens. Look again soon, keeping any place already held (a plan made now would guess).
          flyingFull = true;
          continue;
        }
        const window = windowMs + marginMs(windowMs);
        // Sends in flight are the most recent (they happen now); of the ended sends and the plans ahead,
        // the (limit − in flight)-th most recent: while it is inside the window, the window is full.
        const [blocking] = await tx.query<{ at: number }>(
          `select at::float8 as at from rate_log
           where key = $1 and not in_flight and at > $2
             and (planned_by is null or (planned_by <> $4 and (at < $5 or (at = $5 and planned_by < $4))))
           order by at desc offset $3 limit 1`,
          [key, now - window, limit - inFlight - 1, owner ?? '', placeAt],
        );
        if (blocking) opensAt = Math.max(opensAt, Number(blocking.at) + window + 1);
      }
      // Behind every plan ahead: a place in line is kept even where the window has room.
      if (owner) {
        const [last] = await tx.query<{ at: number | null }>(
          `select max(at)::float8 as at from rate_log
           where key = $1 and planned_by is not null and planned_by <> $2
             and (at < $3 or (at = $3 and planned_by < $2))`,
          [key, owner, placeAt],
        );
        if (last?.at !== null && last?.at !== undefined) opensAt = Math.max(opensAt, Number(last.at));
      }
    }
    if (flyingFull) return Math.max(opensAt - now, inFlightRetryMs);
    if (opensAt > now) {
      if (owner) {
        await tx.query('delete from rate_log where planned_by = $1', [owner]);
        for (const { key } of sorted)
          await tx.query('insert into rate_log (key, at, in_flight, planned_by) values ($1, $2, false, $3)', [
            key,
            opensAt,
            owner,
          ]);
      }
      return opensAt - now;
    }
    if (owner) await tx.query('delete from rate_log where planned_by = $1', [owner]);
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
