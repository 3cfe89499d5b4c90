import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from './db.js';
import { createTurnTaker } from './event-loop-turns.js';

describe('event loop turns under a burst of embedded-database queries', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ url: 'memory://' });
    await db.exec('create table burst (id serial primary key, body text)');
  });
  afterAll(() => db.close());

  it('lets timers fire while thousands of queued queries are answered', async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const timerFiredAt: number[] = [];
    const started = performance.now();
    const ticker = setInterval(() => timerFiredAt.push(performance.now() - started), 5);
    let finishedAfter = 0;
    await Promise.all(
      Array.from({ length: 4_000 }, (_, i) =>
        db.query('insert into burst (body) values ($1) returning id', [`row ${i}`]),
      ),
    ).then(() => {
      finishedAfter = performance.now() - started;
    });
    clearInterval(ticker);
    delay.disable();

    const [stored] = await db.query<{ count: number }>('select count(*)::int as count from burst');
    expect(stored?.count).toBe(4_000);
    // The burst takes a while on any machine; the interval kept firing through it, not only after it.
    expect(finishedAfter).toBeGreaterThan(200);
    const during = timerFiredAt.filter((at) => at < finishedAfter);
    expect(during.length).toBeGreaterThan(finishedAfter / 100);
    // No stretch near the length of the burst without a turn (a slice is 20 ms; a loaded CI machine adds).
    expect(delay.max / 1e6).toBeLessThan(Math.min(finishedAfter / 2, 250));
  });

  it('takes a turn only once a stretch is longer than the slice', async () => {
    const takeTurnIfDue = createTurnTaker(50);
    expect(takeTurnIfDue()).toBeUndefined();
    expect(takeTurnIfDue()).toBeUndefined();
    const spinUntil = performance.now() + 60;
    while (performance.now() < spinUntil) {
      // keep the loop busy past the slice
    }
    const turn = takeTurnIfDue();
    expect(turn).toBeInstanceOf(Promise);
    await turn;
    // The turn came: a new stretch starts.
    expect(takeTurnIfDue()).toBeUndefined();
  });
});
