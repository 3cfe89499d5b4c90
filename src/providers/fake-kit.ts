// Shared parts of the vendor fakes: an adjustable clock and fault injection ("the next call fails with a
// 5xx / rate limit / timeout / revoked token / lost answer", or a share of all calls fails, for chaos
// tests).

/**
 * `timeout`: the vendor never answers and did nothing. `answer_lost`: the vendor did the work (the message
 * is sent, the instance created) but its answer never arrives, so the client times out all the same; a
 * retry must not do the work twice (idempotency keys, dedup).
 */
export type Fault = 'server_error' | 'rate_limit' | 'timeout' | 'revoke_token' | 'answer_lost';

export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

export function fakeClock(start: number | (() => number) = Date.now): FakeClock {
  let offset = 0;
  const base = typeof start === 'number' ? () => start : start;
  return {
    now: () => base() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}

export class FaultInjector {
  private readonly queue: Fault[] = [];
  private rate = 0;
  private readonly kinds: Fault[] = ['server_error', 'rate_limit', 'timeout'];
  /** How many faults were served, by kind (tests and chaos reports read this). */
  readonly served: Record<Fault, number> = {
    server_error: 0,
    rate_limit: 0,
    timeout: 0,
    revoke_token: 0,
    answer_lost: 0,
  };

  constructor(private readonly random: () => number = Math.random) {}

  /** The next call(s) fail this way, in order. */
  failNext(...faults: Fault[]): void {
    this.queue.push(...faults);
  }

  /** From now on, this share (0..1) of calls fails with a random transient fault. */
  failRandomly(rate: number, kinds: Fault[] = ['server_error', 'rate_limit', 'timeout']): void {
    this.rate = rate;
    this.kinds.splice(0, this.kinds.length, ...kinds);
  }

  /** The fault for this call, if any. Token requests are never failed by `revoke_token`. */
  take(): Fault | undefined {
    const fault =
      this.queue.shift() ?? (this.rate > 0 && this.random() < this.rate ? this.pick() : undefined);
    if (fault) this.served[fault]++;
    return fault;
  }

  private pick(): Fault {
    return this.kinds[Math.floor(this.random() * this.kinds.length)] ?? 'server_error';
  }
}

/** A response that never comes (until the client gives up): how a fake shows a timeout. */
export function hang(signal?: AbortSignal): Promise<Response> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
