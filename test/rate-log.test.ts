// Per-destination rate limits kept in the database, so several instances share them: the sliding window
// refuses the send that would overfill it and says how long until a slot frees, with a safety margin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginMs, markSent, pruneRateLog, takeRateSlot } from '../src/store/rate-log.js';
import { databases, startStack, type TestStack } from './stack.js';

describe.each(databases)('rate log on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack(kind);
  });
  afterAll(async () => stack?.close());

  it('lets a window fill, then tells how long until the oldest send leaves it', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-a', limits: [{ limit: 3, windowMs: 60_000 }] };
    const t0 = 1_000_000_000;
    for (let i = 0; i < 3; i++) {
      expect(await takeRateSlot(db, [robot], t0 + i * 10)).toBe(0);
      await markSent(db, [robot], t0 + i * 10, t0 + i * 10);
    }
    const wait = await takeRateSlot(db, [robot], t0 + 1_000);
    // The first send (t0) leaves the stretched window at t0 + 60 s + margin.
    expect(wait).toBe(60_000 + marginMs(60_000) - 1_000 + 1);
    // Refused sends are not recorded: once the window has moved on, exactly one slot is free.
    expect(await takeRateSlot(db, [robot], t0 + 1_000 + wait)).toBe(0);
    expect(await takeRateSlot(db, [robot], t0 + 1_000 + wait)).toBeGreaterThan(0);
  });

  it('counts a send still in flight as happening now, however long ago its slot was taken', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-flying', limits: [{ limit: 1, windowMs: 1_000 }] };
    const t0 = 1_200_000_000;
    expect(await takeRateSlot(db, [robot], t0)).toBe(0);
    // Five seconds later the request has still not come back: the slot is still taken; look again soon.
    const wait = await takeRateSlot(db, [robot], t0 + 5_000);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThan(1_000);
    await markSent(db, [robot], t0, t0 + 5_000);
    expect(await takeRateSlot(db, [robot], t0 + 5_500)).toBeGreaterThan(0);
    expect(await takeRateSlot(db, [robot], t0 + 6_101)).toBe(0);
  });

  it('counts a send from when it ended, so a slow send never lets the next batch in early', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-slow', limits: [{ limit: 1, windowMs: 60_000 }] };
    const t0 = 1_500_000_000;
    expect(await takeRateSlot(db, [robot], t0)).toBe(0);
    // The request took 5 s to reach the vendor and come back.
    await markSent(db, [robot], t0, t0 + 5_000);
    expect(await takeRateSlot(db, [robot], t0 + 60_000 + marginMs(60_000) + 1)).toBeGreaterThan(4_000);
    expect(await takeRateSlot(db, [robot], t0 + 65_000 + marginMs(60_000) + 1)).toBe(0);
  });

  it('checks every key of a send together and records none when one is full', async () => {
    const db = stack.signoff.db;
    const app = { key: 'test-app', limits: [{ limit: 50, windowMs: 1_000 }] };
    const chat = { key: 'test-chat', limits: [{ limit: 2, windowMs: 1_000 }] };
    const other = { key: 'test-chat-2', limits: [{ limit: 2, windowMs: 1_000 }] };
    const t0 = 2_000_000_000;
    expect(await takeRateSlot(db, [app, chat], t0)).toBe(0);
    expect(await takeRateSlot(db, [app, chat], t0)).toBe(0);
    expect(await takeRateSlot(db, [app, chat], t0)).toBeGreaterThan(0);
    // The app key took two sends, not three: another chat still gets its own two.
    const [row] = await db.query<{ count: number }>(
      `select count(*)::int as count from rate_log where key = 'test-app'`,
    );
    expect(row!.count).toBe(2);
    expect(await takeRateSlot(db, [app, other], t0)).toBe(0);
  });

  it('hands out exactly the limit to concurrent takers', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-race', limits: [{ limit: 20, windowMs: 60_000 }] };
    const t0 = 3_000_000_000;
    const waits = await Promise.all(Array.from({ length: 50 }, () => takeRateSlot(db, [robot], t0)));
    expect(waits.filter((wait) => wait === 0)).toHaveLength(20);
  });

  it('forgets sends older than the longest window', async () => {
    const db = stack.signoff.db;
    await takeRateSlot(db, [{ key: 'test-old', limits: [{ limit: 1, windowMs: 1_000 }] }], 1_000);
    await pruneRateLog(db, 10 * 3_600_000);
    const rows = await db.query(`select * from rate_log where key = 'test-old'`);
    expect(rows).toHaveLength(0);
  });
});
