/**
 * Outbound rate limiting, one budget per key (`METHOD /path/template`). The interface is all the
 * client needs, so a limiter shared by several processes (e.g. on Redis) can replace the in-process one.
 */
export interface RateLimiter {
  /** Resolves when one more call under `key` may go out. */
  acquire(key: string): Promise<void>;
}

/** Options of {@link WindowRateLimiter}. */
export interface WindowRateLimiterOptions {
  /** Calls allowed per window and key (DingTalk: 20 per second per app and API for standard orgs). */
  qps: number;
  /** Window length in ms (default 1000). */
  windowMs?: number;
  /** Time source in ms (default `Date.now`). */
  now?: () => number;
}

/**
 * A token bucket that never lets more than `qps` calls per key start in any `windowMs` window
 * (sliding window of reserved slots). A plain token bucket of size `qps` could start up to
 * 2 x qps calls inside one second at a refill edge, which is exactly what DingTalk's QPS limit
 * answers with a 403; this form cannot.
 *
 * Each key keeps a ring of the last `qps` start times, so memory is O(keys x qps). Callers beyond the
 * budget are given the next free slot at once (first come, first served) and sleep until it.
 */
export class WindowRateLimiter implements RateLimiter {
  readonly qps: number;
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #rings = new Map<string, { slots: number[]; head: number }>();

  constructor(options: WindowRateLimiterOptions) {
    if (!Number.isInteger(options.qps) || options.qps < 1)
      throw new RangeError(`WindowRateLimiter: qps must be a positive integer, got ${options.qps}`);
    const windowMs = options.windowMs ?? 1000;
    if (!Number.isFinite(windowMs) || windowMs <= 0)
      throw new RangeError(`WindowRateLimiter: windowMs must be positive, got ${windowMs}`);
    this.qps = options.qps;
    this.windowMs = windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Reserves the next slot for `key` and returns its start time (ms); exposed for tests and metrics. */
  reserve(key: string): number {
    let ring = this.#rings.get(key);
    if (!ring) {
      ring = { slots: new Array<number>(this.qps).fill(Number.NEGATIVE_INFINITY), head: 0 };
      this.#rings.set(key, ring);
    }
    // ring.slots[head] is the oldest of the last `qps` reserved starts.
    const oldest = ring.slots[ring.head] ?? Number.NEGATIVE_INFINITY;
    const start = Math.max(this.#now(), oldest + this.windowMs);
    ring.slots[ring.head] = start;
    ring.head = (ring.head + 1) % this.qps;
    return start;
  }

  async acquire(key: string): Promise<void> {
    const wait = this.reserve(key) - this.#now();
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
  }
}

/** A limiter that never waits (rate limiting turned off). */
export const noRateLimit: RateLimiter = { acquire: () => Promise.resolve() };
