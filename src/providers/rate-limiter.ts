// Client-side rate limiting at each vendor's documented limits (platforms.md §6.3): a sliding log per
// key; `take` waits until a slot is free instead of letting the vendor refuse us. Several limits may
// apply to one key at once (e.g. 50/s and 1000/min).

export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Resolves when a request for `key` may go out under every one of `limits`. */
  take(key: string, limits: readonly RateLimit[]): Promise<void>;
}

/** Send times of one key, oldest first; `head` skips the ones that left every window. */
interface SendLog {
  times: number[];
  head: number;
}

export function memoryRateLimiter(now: () => number = Date.now, sleep = defaultSleep): RateLimiter {
  const logs = new Map<string, SendLog>();
  return {
    async take(key, limits) {
      const longest = Math.max(...limits.map((limit) => limit.windowMs));
      const log = logs.get(key) ?? { times: [], head: 0 };
      logs.set(key, log);
      for (;;) {
        const at = now();
        forget(log, at - longest);
        let waitMs = 0;
        for (const { limit, windowMs } of limits) {
          const inWindow = log.times.length - firstAfter(log, at - windowMs);
          if (inWindow >= limit) {
            // The send that must leave this window before another may enter it.
            const blocking = log.times[log.times.length - limit]!;
            waitMs = Math.max(waitMs, blocking + windowMs - at);
          }
        }
        if (waitMs <= 0) {
          log.times.push(at);
          return;
        }
        await sleep(waitMs);
      }
    },
  };
}

function forget(log: SendLog, before: number): void {
  log.head = firstAfter(log, before);
  if (log.head > 1024 && log.head * 2 > log.times.length) {
    log.times = log.times.slice(log.head);
    log.head = 0;
  }
}

/** Index of the first send later than `time` (binary search; times are in order). */
function firstAfter(log: SendLog, time: number): number {
  let low = log.head;
  let high = log.times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (log.times[middle]! <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
