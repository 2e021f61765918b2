import { DingTalkSkillsError, ErrorCode, isCodedError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { RateLimiter } from '../openapi/rate-limiter.js';
import { checkKey, type StateStore } from './state-store.js';

/** Options of {@link StateRateLimiter}. */
export interface StateRateLimiterOptions {
  store: StateStore;
  logger: Logger;
  /** Calls allowed per window and key, across all instances (default 20: DingTalk's limit per app and API for standard orgs). */
  qps?: number;
  /** Window length in ms (default 1000). */
  windowMs?: number;
  /** Longest time `acquire` waits for a turn before failing with ERR_RATE_LIMITED (default 30 s). */
  maxWaitMs?: number;
  /** Whose budget this is, e.g. the app's clientId (default `app`): apps sharing a store have separate budgets. */
  scope?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Up to this many calls per window the limiter keeps a sliding window (the start times of the last
 * `qps` calls under one key); above it, where no DingTalk limit lies (load tests), fixed windows.
 */
export const SLIDING_WINDOW_MAX_QPS = 1000;

/** Compare-and-swap attempts in a row before a contended caller backs off a little. */
const CAS_ATTEMPTS_BEFORE_PAUSE = 8;

/**
 * The OpenAPI client's {@link RateLimiter} shared by every instance on a {@link StateStore}.
 *
 * With `qps` up to `SLIDING_WINDOW_MAX_QPS` (every DingTalk limit): a sliding window, like the
 * in-process `WindowRateLimiter`. The store keeps, per scope and API, the start times of the last `qps`
 * calls (one JSON array, updated with `compareAndSwap`); a caller reserves the next free start (no
 * earlier than the oldest of those plus `windowMs`) and sleeps until it, so no `windowMs` window ever
 * holds more than `qps` starts, even across instances. Turns go in the order reservations succeed
 * (concurrent callers race on the swap; a loser reads again). Start times are each process's
 * `Date.now()`, never earlier than the last reserved one: a host whose clock runs d ms ahead of another's
 * can shrink a window by d ms, so keep hosts' clocks synchronized (NTP) or set `qps` a little low.
 * During a rolling upgrade from the fixed-window version the two count under different keys.
 *
 * Above it: fixed windows counted with `incrWithTtl` (one round trip), which let up to 2 x qps calls
 * start within a second that straddles a window edge.
 *
 * Past `maxWaitMs` a caller fails with ERR_RATE_LIMITED without reserving. When the store fails the
 * call goes ahead (the limit protects; it must not take the API down with the store), logged once per
 * outage at error.
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
    if (this.qps > SLIDING_WINDOW_MAX_QPS) return this.#acquireFixed(key);
    const start = await this.#reserveSliding(key);
    const wait = start - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /**
   * Sliding window only: reserves the next turn under `key` and returns its start time (ms since the
   * epoch) without waiting for it; `acquire` is this plus the wait. Exposed for tests and metrics.
   */
  async reserve(key: string): Promise<number> {
    checkKey(key);
    if (this.qps > SLIDING_WINDOW_MAX_QPS)
      throw new RangeError(`reserve: qps ${this.qps} is above ${SLIDING_WINDOW_MAX_QPS} (fixed windows)`);
    return this.#reserveSliding(key);
  }

  /** The next free start among the last `qps` under this key (now when the store fails). */
  async #reserveSliding(key: string): Promise<number> {
    const k = `rate:${this.#scope}:${key}`;
    // `maxWaitMs` counts from the call, not from each attempt after a lost swap.
    const deadline = Date.now() + this.#maxWaitMs;
    for (let attempt = 1; ; attempt++) {
      let raw: string | null;
      let swapped: boolean;
      let start: number;
      try {
        raw = await this.#store.get(k);
        const starts = readStarts(raw);
        const now = Date.now();
        const oldest =
          starts.length < this.qps ? Number.NEGATIVE_INFINITY : starts[starts.length - this.qps]!;
        const last = starts.length > 0 ? starts[starts.length - 1]! : Number.NEGATIVE_INFINITY;
        start = Math.max(now, oldest + this.windowMs, last);
        if (start > deadline) throw this.#noTurn(key);
        const kept = starts.slice(Math.max(0, starts.length - this.qps + 1));
        kept.push(start);
        // The array matters until its newest start has left the window.
        swapped = await this.#store.compareAndSwap(k, raw, JSON.stringify(kept), start - now + this.windowMs);
      } catch (err) {
        if (isCodedError(err, ErrorCode.RateLimited)) throw err;
        this.#onStoreError(err);
        return Date.now();
      }
      this.#storeBack();
      if (swapped) return start;
      // Another caller reserved first: read again. Under heavy contention, step aside briefly.
      if (attempt % CAS_ATTEMPTS_BEFORE_PAUSE === 0) await sleep(1 + Math.floor(Math.random() * 5));
    }
  }

  /** Fixed windows (qps above the sliding limit): count in the current window, else wait for the next. */
  async #acquireFixed(key: string): Promise<void> {
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
      this.#storeBack();
      if (count <= this.qps) return;
      const nextWindow = windowStart + this.windowMs;
      if (nextWindow > deadline) throw this.#noTurn(key);
      // A little jitter past the edge spreads the waiters of all instances over the new window's start.
      await sleep(nextWindow - Date.now() + Math.floor(Math.random() * Math.min(20, this.windowMs / 10)));
    }
  }

  #noTurn(key: string): DingTalkSkillsError {
    return new DingTalkSkillsError(
      ErrorCode.RateLimited,
      `rate limit ${this.qps}/${this.windowMs} ms for "${key}": no turn within ${this.#maxWaitMs} ms`,
    );
  }

  #storeBack(): void {
    if (!this.#storeDown) return;
    this.#storeDown = false;
    this.#logger.info({}, 'rate limit store is back; limiting again');
  }

  #onStoreError(err: unknown): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#logger.error({ err }, 'rate limit store failed: calls go out unlimited until it is back');
  }
}

/**
 * The reserved start times kept under a key: a JSON array of numbers, oldest first. Anything else
 * (a value from an older version of this limiter, or garbage) counts as no reservations.
 */
function readStarts(raw: string | null): number[] {
  if (raw === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    if (err instanceof SyntaxError) return [];
    throw err;
  }
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v))
    ? (value as number[])
    : [];
}
