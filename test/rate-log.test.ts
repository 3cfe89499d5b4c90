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

  it('gives senders that wait places in line: each wakes when its own slot opens', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-line', limits: [{ limit: 3, windowMs: 60_000 }] };
    const window = 60_000 + marginMs(60_000);
    const t0 = 4_000_000_000;
    // Three sends fill the window, 1 s apart.
    for (let i = 0; i < 3; i++) {
      expect(await takeRateSlot(db, [robot], t0 + i * 1_000, { placeFor: `sent:${i}` })).toBe(0);
      await markSent(db, [robot], t0 + i * 1_000, t0 + i * 1_000);
    }
    // Seven more arrive at once. Without places all seven would wake when the first send leaves the
    // window; with them the 4th–6th wake as the 1st–3rd leave it, the 7th–9th a window after the 4th–6th,
    // the 10th a window after the 7th.
    const now = t0 + 5_000;
    const waits: number[] = [];
    for (let i = 3; i < 10; i++) waits.push(await takeRateSlot(db, [robot], now, { placeFor: `n:${i}` }));
    const wakes = waits.map((wait) => now + wait);
    expect(wakes).toEqual([
      t0 + window + 1,
      t0 + 1_000 + window + 1,
      t0 + 2_000 + window + 1,
      t0 + 2 * (window + 1),
      t0 + 1_000 + 2 * (window + 1),
      t0 + 2_000 + 2 * (window + 1),
      t0 + 3 * (window + 1),
    ]);
    // A sender that comes later waits behind them, although nobody has sent since.
    const late = await takeRateSlot(db, [robot], now + 1_000, { placeFor: 'n:late' });
    expect(now + 1_000 + late).toBeGreaterThan(wakes.at(-1)!);
    // The 4th wakes at its time and goes; the 5th, woken a little early, is told to wait until its own.
    expect(await takeRateSlot(db, [robot], wakes[0]!, { placeFor: 'n:3' })).toBe(0);
    await markSent(db, [robot], wakes[0]!, wakes[0]! + 200);
    expect(wakes[0]! + (await takeRateSlot(db, [robot], wakes[0]!, { placeFor: 'n:4' }))).toBe(wakes[1]);
    // A plan is a place, not a send: one sender holds one, whatever number of times it asked.
    const [plans] = await db.query<{ count: number }>(
      `select count(*)::int as count from rate_log where key = 'test-robot-line' and planned_by is not null`,
    );
    expect(plans!.count).toBe(7);
  });

  it('checks a woken sender against the sends as they happened: a late predecessor moves it back', async () => {
    const db = stack.signoff.db;
    const robot = { key: 'test-robot-late', limits: [{ limit: 1, windowMs: 60_000 }] };
    const window = 60_000 + marginMs(60_000);
    const t0 = 5_000_000_000;
    expect(await takeRateSlot(db, [robot], t0)).toBe(0);
    await markSent(db, [robot], t0, t0);
    const first = t0 + (await takeRateSlot(db, [robot], t0, { placeFor: 'a' }));
    const second = t0 + (await takeRateSlot(db, [robot], t0, { placeFor: 'b' }));
    expect(second - first).toBe(window + 1);
    // `a` woke 5 s late and its send took 1 s more: `b` may not go at its planned time.
    expect(await takeRateSlot(db, [robot], first + 5_000, { placeFor: 'a' })).toBe(0);
    await markSent(db, [robot], first + 5_000, first + 6_000);
    const again = await takeRateSlot(db, [robot], second, { placeFor: 'b' });
    expect(second + again).toBe(first + 6_000 + window + 1);
  });

  it('forgets sends older than the longest window', async () => {
    const db = stack.signoff.db;
    await takeRateSlot(db, [{ key: 'test-old', limits: [{ limit: 1, windowMs: 1_000 }] }], 1_000);
    await pruneRateLog(db, 10 * 3_600_000);
    const rows = await db.query(`select * from rate_log where key = 'test-old'`);
    expect(rows).toHaveLength(0);
  });
});
