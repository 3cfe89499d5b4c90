// Client-side rate limiting at each vendor's documented limits (platforms.md §6.3): a token bucket per
// key; `take` waits until a slot is free instead of letting the vendor refuse us.

export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Resolves when a request for `key` may go out; several limits (e.g. 50/s and 1000/min) all apply. */
  take(key: string, limits: readonly RateLimit[]): Promise<void>;
}

export function memoryRateLimiter(now: () => number = Date.now, sleep = defaultSleep): RateLimiter {
  const sent = new Map<string, number[]>();
  return {
    async take(key, limits) {
      for (;;) {
        const at = now();
        const longest = Math.max(...limits.map((limit) => limit.windowMs));
        const history = (sent.get(key) ?? []).filter((time) => time > at - longest);
        let waitMs = 0;
        for (const { limit, windowMs } of limits) {
          const inWindow = history.filter((time) => time > at - windowMs);
          if (inWindow.length >= limit)
            waitMs = Math.max(waitMs, inWindow[inWindow.length - limit]! + windowMs - at);
        }
        if (waitMs <= 0) {
          history.push(at);
          sent.set(key, history);
          return;
        }
        sent.set(key, history);
        await sleep(waitMs);
      }
    },
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
