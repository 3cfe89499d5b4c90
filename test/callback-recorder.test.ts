// Group commit of callbacks on a real database: a burst is written in few statements, and every caller
// gets the same answer it would get if the callbacks had been written one by one in arrival order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackRecorder } from '../src/store/callback-recorder.js';
import type { Queryable, SqlValue } from '../src/store/db.js';
import { databases, startStack, type TestStack } from './stack.js';

describe.each(databases)('callback recorder on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true });
  });
  afterAll(async () => stack?.close());

  it('writes a burst in a few statements, first of duplicates wins, replays refused', async () => {
    let statements = 0;
    const db = stack.signoff.db;
    const counting: Queryable = {
      query: (sql: string, params?: readonly SqlValue[]) => {
        statements++;
        return db.query(sql, params);
      },
    };
    const recorder = new CallbackRecorder(counting);
    const appId = 'ima_sandbox_feishu';
    const event = (key: string) => ({
      dedup_key: `burst-${key}`,
      type: 'approval_instance',
      payload: { key },
    });
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) =>
        recorder.record({ appId, replay_key: `t:${i}`, event: event(String(i)) }),
      ),
      // the same timestamp:nonce again (a replay) and the same event under a new nonce (a redelivery)
      recorder.record({ appId, replay_key: 't:7', event: event('7') }),
      recorder.record({ appId, replay_key: 't:new', event: event('8') }),
    ]);
    expect(statements).toBeLessThanOrEqual(3);
    expect(results.slice(0, 50).every((result) => !result.replay && result.stored)).toBe(true);
    expect(results[50]).toEqual({ replay: true, stored: false });
    expect(results[51]).toEqual({ replay: false, stored: false });
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from im_events where im_app_id = $1 and dedup_key like 'burst-%'`,
      [appId],
    );
    expect(row!.n).toBe(50);
  });
});

describe('callback recorder grouping and arrival order (PGlite)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack('pglite', { sandbox: true });
  });
  afterAll(async () => stack?.close());

  const appId = 'ima_sandbox_dingtalk';
  const counting = () => {
    const db = stack.signoff.db;
    const counter = {
      statements: 0,
      db: {
        query: (sql: string, params?: readonly SqlValue[]) => {
          counter.statements++;
          return db.query(sql, params);
        },
      } as Queryable,
    };
    return counter;
  };
  const event = (key: string, payload: unknown = { key }) => ({
    dedup_key: key,
    type: 'approval_instance',
    payload,
  });
  const rows = (prefix: string) =>
    stack.signoff.db.query<{ dedup_key: string; payload: { from?: string } }>(
      `select dedup_key, payload from im_events where im_app_id = $1 and dedup_key like $2 order by dedup_key`,
      [appId, `${prefix}%`],
    );

  it('groups callbacks that arrive in separate event-loop callbacks (as HTTP requests do)', async () => {
    // PGlite runs a statement synchronously inside the microtasks of the request that started it: a
    // recorder that wrote at once would write every one of these alone.
    const counter = counting();
    const recorder = new CallbackRecorder(counter.db);
    const results = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          new Promise<Awaited<ReturnType<CallbackRecorder['record']>>>((resolve, reject) =>
            setTimeout(() => {
              recorder
                .record({ appId, replay_key: `group:${i}`, event: event(`group-${i}`) })
                .then(resolve, reject);
            }, 0),
          ),
      ),
    );
    expect(results.every((result) => !result.replay && result.stored)).toBe(true);
    expect(counter.statements).toBeLessThanOrEqual(2);
    expect((await rows('group-')).length).toBe(40);
  });

  it('answers each caller as if the batch had been written one by one, in arrival order', async () => {
    const recorder = new CallbackRecorder(stack.signoff.db);
    // Seen before this batch: one replay key, one event.
    await recorder.record({ appId, replay_key: 'order:old', event: event('order-a', { from: 'old' }) });
    await recorder.record({ appId, replay_key: 'order:seen', event: event('order-seen', { from: 'old' }) });
    const results = await Promise.all([
      // 0: a replay of an earlier request, carrying an event not stored yet: refused, stores nothing
      recorder.record({ appId, replay_key: 'order:old', event: event('order-b', { from: 'replay' }) }),
      // 1: the same event under a new nonce: the first fresh copy, stored with its own payload
      recorder.record({ appId, replay_key: 'order:1', event: event('order-b', { from: 'first' }) }),
      // 2: a later copy of that event: fresh, not stored again
      recorder.record({ appId, replay_key: 'order:2', event: event('order-b', { from: 'second' }) }),
      // 3: an event the database already had: fresh, not stored
      recorder.record({ appId, replay_key: 'order:3', event: event('order-seen', { from: 'again' }) }),
      // 4 and 5: the same timestamp:nonce twice in one batch: the second is a replay
      recorder.record({ appId, replay_key: 'order:4', event: event('order-c', { from: 'first' }) }),
      recorder.record({ appId, replay_key: 'order:4', event: event('order-d', { from: 'replay' }) }),
      // 6: a callback without replay key or event (nothing to refuse, nothing to store)
      recorder.record({ appId }),
    ]);
    expect(results).toEqual([
      { replay: true, stored: false },
      { replay: false, stored: true },
      { replay: false, stored: false },
      { replay: false, stored: false },
      { replay: false, stored: true },
      { replay: true, stored: false },
      { replay: false, stored: false },
    ]);
    expect((await rows('order-')).map((row) => [row.dedup_key, row.payload.from])).toEqual([
      ['order-a', 'old'],
      ['order-b', 'first'],
      ['order-c', 'first'],
      ['order-seen', 'old'],
    ]);
  });

  it('marks the URL verified and the last event time for fresh callbacks only', async () => {
    const recorder = new CallbackRecorder(stack.signoff.db);
    await stack.signoff.db.query(
      'update im_apps set callback_verified_at = null, last_event_at = null where id = $1',
      [appId],
    );
    const state = async () =>
      (
        await stack.signoff.db.query<{ verified: boolean; event: boolean }>(
          `select callback_verified_at is not null as verified, last_event_at is not null as event
           from im_apps where id = $1`,
          [appId],
        )
      )[0];
    await recorder.record({ appId, replay_key: 'order:old', verification: true });
    expect(await state()).toEqual({ verified: false, event: false });
    await Promise.all([
      recorder.record({ appId, replay_key: 'mark:1', verification: true }),
      recorder.record({ appId, replay_key: 'mark:2', event: event('mark-1') }),
    ]);
    expect(await state()).toEqual({ verified: true, event: true });
  });
});
