// Records verified callbacks with group commit: the callbacks that arrive while one write is running are
// written together in the next single statement, so a burst costs a few database round trips instead of
// one per callback. Each caller still learns its own outcome (replay? stored?) before answering the
// vendor, so nothing is acknowledged before it is durable.
//
// The first write of a burst waits for the end of the current event-loop turn (setImmediate), so every
// request read from the sockets in that turn joins it. Without that wait there was no group commit at all
// on PGlite: its query runs synchronously inside the microtasks of the first request, so each callback was
// written alone (measured: batches of exactly 1 under 200 concurrent senders).
import type { ImEvent } from '../providers/types.js';
import type { Queryable } from './db.js';
import { recordCallback } from './im-apps.js';

export interface CallbackRecord {
  appId: string;
  replay_key?: string | undefined;
  event?: ImEvent | undefined;
  verification?: boolean | undefined;
}

export interface Recorded {
  replay: boolean;
  stored: boolean;
}

interface Pending {
  record: CallbackRecord;
  resolve(result: Recorded): void;
  reject(error: unknown): void;
}

const maxBatch = 500;

export class CallbackRecorder {
  private queue: Pending[] = [];
  /** A write is scheduled or running: new records join the queue and are written after it. */
  private busy = false;

  constructor(private readonly db: Queryable) {}

  record(record: CallbackRecord): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, maxBatch);
        try {
          const results = await writeBatch(
            this.db,
            batch.map((pending) => pending.record),
          );
          for (const [index, pending] of batch.entries()) pending.resolve(results[index]!);
        } catch {
          // One odd row must not fail its neighbours: write them one by one.
          for (const pending of batch) {
            await recordCallback(this.db, pending.record.appId, pending.record).then(
              pending.resolve,
              pending.reject,
            );
          }
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

const key = (appId: string, text: string) => `${appId}\u0000${text}`;

// Within a batch the first of several callbacks with the same replay key (or event) wins, as if they had
// been written one after another in arrival order. The statement stays linear in the batch size: what
// depends only on the batch (a replay key seen earlier in it, the first fresh callback of an event) is
// worked out here; the statement only reports the replay keys and events the database already held
// (hash lookups, no correlated subquery per row: the earlier form was O(n²), ~0.5 ms per callback at 100).
async function writeBatch(db: Queryable, records: CallbackRecord[]): Promise<Recorded[]> {
  // A replay key already used earlier in this batch is a replay whatever the database holds.
  const seenReplay = new Set<string>();
  const candidate = records.map((record) => {
    if (record.replay_key == null) return true;
    const replay = key(record.appId, record.replay_key);
    if (seenReplay.has(replay)) return false;
    seenReplay.add(replay);
    return true;
  });
  const input = records.filter((_, index) => candidate[index]);
  // Only what did not go in comes back (normally nothing): a replay key the database already held, an
  // event it already had. Everything else in `input` is new.
  const rows = await db.query<{ replay: boolean; app: string; key: string }>(
    `with input as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])
         with ordinality as t(app, replay_key, dedup, type, payload, verification, ord)),
     replay as (
       insert into im_callback_replays (im_app_id, replay_key)
       select app, replay_key from input where replay_key is not null
       on conflict do nothing returning im_app_id, replay_key),
     fresh as (
       select * from input
       where replay_key is null or (app, replay_key) in (select im_app_id, replay_key from replay)),
     event as (
       insert into im_events (im_app_id, dedup_key, type, payload)
       select app, dedup, type, payload::jsonb from fresh where dedup is not null order by ord
       on conflict (im_app_id, dedup_key) do nothing returning im_app_id, dedup_key),
     touch as (
       update im_apps a set
         last_event_at = case when f.events then now() else a.last_event_at end,
         callback_verified_at = case when f.verified then now() else a.callback_verified_at end
       from (select app, bool_or(dedup is not null) as events, bool_or(verification) as verified
             from fresh group by app) f
       where a.id = f.app and (f.verified
         or (f.events and (a.last_event_at is null or a.last_event_at < now() - interval '1 second')))
       returning 1)
     select true as replay, app, replay_key as key from input
     where replay_key is not null and (app, replay_key) not in (select im_app_id, replay_key from replay)
     union all
     select false, app, dedup from fresh
     where dedup is not null and (app, dedup) not in (select im_app_id, dedup_key from event)`,
    [
      input.map((record) => record.appId),
      input.map((record) => record.replay_key ?? null),
      input.map((record) => (record.event ? withoutNul(record.event.dedup_key) : null)),
      input.map((record) => (record.event ? withoutNul(record.event.type) : null)),
      input.map((record) => (record.event ? JSON.stringify(record.event.payload, nulFree) : null)),
      input.map((record) => record.verification === true),
    ],
  );
  const oldReplays = new Set<string>();
  const oldEvents = new Set<string>();
  for (const row of rows) (row.replay ? oldReplays : oldEvents).add(key(row.app, row.key));
  // The database kept the first fresh callback of each new event (inserted in arrival order).
  const claimed = new Set<string>();
  return records.map((record, index) => {
    const fresh =
      candidate[index]! &&
      (record.replay_key == null || !oldReplays.has(key(record.appId, record.replay_key)));
    if (!fresh || !record.event) return { replay: !fresh, stored: false };
    const event = key(record.appId, withoutNul(record.event.dedup_key));
    const stored = !oldEvents.has(event) && !claimed.has(event);
    claimed.add(event);
    return { replay: false, stored };
  });
}

// PostgreSQL text and jsonb cannot hold U+0000, which a genuine vendor event may carry (a comment, a
// title); it is stored as U+FFFD rather than losing the event.
export const withoutNul = (text: string) => text.replaceAll('\u0000', '\uFFFD');
export const nulFree = (_key: string, value: unknown) =>
  typeof value === 'string' ? withoutNul(value) : value;
