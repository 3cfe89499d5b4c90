import { describe, expect, it } from 'vitest';
import { fakeClock } from './fake-kit.js';
import { memoryRateLimiter } from './rate-limiter.js';

describe('rate limiter', () => {
  it('lets `limit` requests through per window and makes the next one wait for the oldest to leave', async () => {
    const clock = fakeClock(0);
    const waits: number[] = [];
    const limiter = memoryRateLimiter(clock.now, async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    });
    for (let i = 0; i < 5; i++) await limiter.take('chat', [{ limit: 5, windowMs: 1000 }]);
    expect(waits).toEqual([]);
    clock.advance(200);
    await limiter.take('chat', [{ limit: 5, windowMs: 1000 }]);
    expect(waits).toEqual([800]);
    expect(clock.now()).toBe(1000);
  });

  it('applies every limit of a key (50/s and 1000/min) and keeps keys apart', async () => {
    const clock = fakeClock(0);
    const limiter = memoryRateLimiter(clock.now, async (ms) => clock.advance(ms));
    const limits = [
      { limit: 50, windowMs: 1000 },
      { limit: 1000, windowMs: 60_000 },
    ];
    for (let i = 0; i < 1000; i++) await limiter.take('app', limits);
    // 1000 sends at 50/s take 19 whole seconds past the first one
    expect(clock.now()).toBe(19_000);
    await limiter.take('app', limits);
    expect(clock.now()).toBe(60_000);
    const before = clock.now();
    await limiter.take('other-app', limits);
    expect(clock.now()).toBe(before);
  });
});
