// Records verified callbacks with group commit: the callbacks that arrive while one write is running are
// written together in the next single statement, so a burst costs a few database round trips instead of
// one per callback. Each caller still learns its own outcome (replay? stored?) before answering the
// vendor, so nothing is acknowledged before it is durable.
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
  private writing = false;

  constructor(private readonly db: Queryable) {}

  record(record: CallbackRecord): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
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
      this.writing = false;
    }
  }
}

// Within a batch the first of several callbacks with the same replay key (or event) wins, as if they
// had been written one after another in arrival order.
async function writeBatch(db: Queryable, records: CallbackRecord[]): Promise<Recorded[]> {
  const rows = await db.query<{ ord: number; fresh: boolean; stored: boolean }>(
    `with input as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])
         with ordinality as t(app, replay_key, dedup, type, payload, verification, ord)),
     replay as (
       insert into im_callback_replays (im_app_id, replay_key)
       select app, replay_key from input where replay_key is not null
       on conflict do nothing returning im_app_id, replay_key),
     fresh as (
       select i.*, (i.replay_key is null or (
         exists (select 1 from replay r where r.im_app_id = i.app and r.replay_key = i.replay_key)
         and i.ord = (select min(j.ord) from input j where j.app = i.app and j.replay_key = i.replay_key))) as ok
       from input i),
     event as (
       insert into im_events (im_app_id, dedup_key, type, payload)
       select app, dedup, type, payload::jsonb from fresh where ok and dedup is not null
       on conflict (im_app_id, dedup_key) do nothing returning im_app_id, dedup_key),
     touch as (
       update im_apps a set
         last_event_at = case when exists (select 1 from fresh f where f.ok and f.app = a.id and f.dedup is not null)
           then now() else a.last_event_at end,
         callback_verified_at = case when exists (select 1 from fresh f where f.ok and f.app = a.id and f.verification)
           then now() else a.callback_verified_at end
       where a.id in (select app from fresh where ok and (verification or dedup is not null))
         and (exists (select 1 from fresh f where f.ok and f.app = a.id and f.verification)
           or a.last_event_at is null or a.last_event_at < now() - interval '1 second')
       returning 1)
     select f.ord::int as ord, f.ok as fresh,
       (f.ok and f.dedup is not null and exists (select 1 from event e where e.im_app_id = f.app and e.dedup_key = f.dedup)
         and f.ord = (select min(g.ord) from fresh g where g.ok and g.app = f.app and g.dedup = f.dedup)) as stored
     from fresh f order by f.ord`,
    [
      records.map((record) => record.appId),
      records.map((record) => record.replay_key ?? null),
      records.map((record) => (record.event ? withoutNul(record.event.dedup_key) : null)),
      records.map((record) => (record.event ? withoutNul(record.event.type) : null)),
      records.map((record) => (record.event ? JSON.stringify(record.event.payload, nulFree) : null)),
      records.map((record) => record.verification === true),
    ],
  );
  return rows.map((row) => ({ replay: !row.fresh, stored: row.stored }));
}

// PostgreSQL text and jsonb cannot hold U+0000, which a genuine vendor event may carry (a comment, a
// title); it is stored as U+FFFD rather than losing the event.
export const withoutNul = (text: string) => text.replaceAll('\u0000', '\uFFFD');
export const nulFree = (_key: string, value: unknown) =>
  typeof value === 'string' ? withoutNul(value) : value;
