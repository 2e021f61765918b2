import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { RateLimiter } from '../openapi/rate-limiter.js';
import { checkKey, type StateStore } from './state-store.js';

/** Options of {@link StateRateLimiter}. */
export interface StateRateLimiterOptions {
  store: StateStore;
  logger: Logger;
  /** Calls allowed per window and key, across all instances (default 20: DingTalk's limit per app and API for standard orgs). */
  qps?: number;
  /** Window length in ms (default 1000). Windows start at multiples of it since the epoch, the same in every process. */
  windowMs?: number;
  /** Longest time `acquire` waits for a turn before failing with ERR_RATE_LIMITED (default 30 s). */
  maxWaitMs?: number;
  /** Whose budget this is, e.g. the app's clientId (default `app`): apps sharing a store have separate budgets. */
  scope?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The OpenAPI client's {@link RateLimiter} shared by every instance on a {@link StateStore}: fixed
 * windows (1 s by default) per scope and API key, counted with `incrWithTtl`. Over the limit, a
 * caller waits for the next window and tries again; past `maxWaitMs` it fails with ERR_RATE_LIMITED.
 *
 * Fixed windows let up to 2 x qps calls start within one second that straddles a window edge; use a
 * `qps` a little under the platform's limit if it counts sliding seconds. When the store fails the
 * call goes ahead (the limit protects; it must not take the API down with the store), logged once
 * per outage at error.
 */
export class StateRateLimiter implements RateLimiter {
  readonly qps: number;
  readonly windowMs: number;
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #maxWaitMs: number;
  readonly #scope: string;
  #storeDown = false;

  constructor(options: StateRateLimiterOptions) {
    this.qps = options.qps ?? 20;
    if (!Number.isInteger(this.qps) || this.qps < 1)
      throw new RangeError(`StateRateLimiter: qps must be a positive integer, got ${options.qps}`);
    this.windowMs = options.windowMs ?? 1000;
    if (!Number.isInteger(this.windowMs) || this.windowMs < 1)
      throw new RangeError(`StateRateLimiter: windowMs must be a positive integer, got ${options.windowMs}`);
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    if (!Number.isFinite(this.#maxWaitMs) || this.#maxWaitMs < 0)
      throw new RangeError(`StateRateLimiter: maxWaitMs must be >= 0, got ${options.maxWaitMs}`);
    this.#scope = checkKey(options.scope ?? 'app');
    this.#store = options.store;
    this.#logger = options.logger.child({ component: 'rate-limiter', store: options.store.kind });
  }

  async acquire(key: string): Promise<void> {
    checkKey(key);
    const deadline = Date.now() + this.#maxWaitMs;
    for (;;) {
      const now = Date.now();
      const windowStart = now - (now % this.windowMs);
      let count: number;
      try {
        // The window's start is in the key, so each window counts from zero; the TTL only cleans up.
        count = await this.#store.incrWithTtl(`rate:${this.#scope}:${key}:${windowStart}`, this.windowMs * 2);
      } catch (err) {
        this.#onStoreError(err);
        return;
      }
      if (this.#storeDown) {
        this.#storeDown = false;
        this.#logger.info({}, 'rate limit store is back; limiting again');
      }
      if (count <= this.qps) return;
      const nextWindow = windowStart + this.windowMs;
      if (nextWindow > deadline)
        throw new DingTalkSkillsError(
          ErrorCode.RateLimited,
          `rate limit ${this.qps}/${this.windowMs} ms for "${key}": no turn within ${this.#maxWaitMs} ms`,
        );
      // A little jitter past the edge spreads the waiters of all instances over the new window's start.
      await sleep(nextWindow - Date.now() + Math.floor(Math.random() * Math.min(20, this.windowMs / 10)));
    }
  }

  #onStoreError(err: unknown): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#logger.error({ err }, 'rate limit store failed: calls go out unlimited until it is back');
  }
}
