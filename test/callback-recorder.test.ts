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
