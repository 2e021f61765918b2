import { isCodedError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { isOpenApiError, type OpenApiError } from '../openapi/errors.js';
import { type RateLimiter, WindowRateLimiter } from '../openapi/rate-limiter.js';
import { StateRateLimiter } from '../state/state-rate-limiter.js';
import type { StateStore } from '../state/state-store.js';

/** Options of {@link CardPacer}. */
export interface CardPacerOptions {
  /** Whose budget: the app's clientId (apps sharing a store have separate budgets). */
  clientId: string;
  logger: Logger;
  /** Shared by every instance of the app (SQLite/Redis); absent or `memory` = this process only. */
  store?: StateStore | undefined;
  /** Card calls per window across all cards of the app, all card APIs together. */
  qps: number;
  /** Window length (1 s plus a margin for network jitter). */
  windowMs: number;
  /** First pause of every card call after a QPS 403; doubles per 403 in a row up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Longest wait for a turn before the call fails with ERR_RATE_LIMITED. */
  maxWaitMs: number;
  /**
   * Most card calls in flight (default 4, under the OpenAPI client's pool of 8): a call released by the
   * pacer goes on the wire at once instead of queueing for a connection and arriving in a burst.
   */
  maxInFlight?: number;
}

/** Which card calls go first when several wait: finishing, then starting, then intermediate frames. */
export type CardCallPriority = 'close' | 'start' | 'frame';
const PRIORITY: Record<CardCallPriority, number> = { close: 0, start: 1, frame: 2 };

/** Counters of a pacer (this process's view). */
export interface CardPacerStats {
  /** Card calls sent. */
  calls: number;
  /** QPS 403 answers received. */
  qpsLimited: number;
  /** Pauses started (a 403 while already paused extends the pause without counting). */
  backoffs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The budget key of the card APIs in the shared rate limiter. */
const BUDGET_KEY = 'card-api';

/**
 * One app-wide gate for AI card calls. Every card of the app, in every conversation and (with a
 * shared store) every instance, takes its turns from one sliding-window budget (`qps` per
 * `windowMs`, the card APIs together), so the app stays under DingTalk's card QPS limit however many
 * replies stream at once. Turns are first come, first served; each card holds at most one pending
 * turn, so many cards share the budget fairly.
 *
 * A QPS 403 (`Forbidden.AccessDenied.QpsLimitFor*`) still means someone else uses the budget (another
 * tool on the same app, a lower limit than configured): the pacer then pauses every card call of the
 * app for `backoffMs` (doubling per 403 in a row, with jitter), recorded in the store so the other
 * instances pause too. The call that got the 403 is the caller's to repeat (with its latest text).
 * After a pause this instance also uses only a share of `qps` (halved per 403, at least 1/8, growing
 * back by 1% per successful call): a budget someone else shares is found by trial, not by repeating 403s.
 */
export class CardPacer {
  readonly qps: number;
  readonly windowMs: number;
  readonly #o: CardPacerOptions;
  readonly #limiter: RateLimiter;
  readonly #store: StateStore | undefined;
  readonly #cooldownKey: string;
  readonly #logger: Logger;
  #pausedUntil = 0;
  #strikes = 0;
  /** Share of `qps` this instance uses: halved per QPS 403 (down to 1/8), back by 1% per success. */
  #factor = 1;
  #nextAt = 0;
  /** Waiting calls by priority (index 0 first). */
  readonly #queues: Array<Array<() => void>> = [[], [], []];
  #dispatching = false;
  #inFlight = 0;
  #slotFreed: (() => void) | undefined;
  #stats: CardPacerStats = { calls: 0, qpsLimited: 0, backoffs: 0 };

  constructor(options: CardPacerOptions) {
    this.#o = options;
    this.qps = options.qps;
    this.windowMs = options.windowMs;
    this.#logger = options.logger.child({ component: 'card-pacer' });
    const shared = options.store !== undefined && options.store.kind !== 'memory';
    this.#store = shared ? options.store : undefined;
    this.#limiter =
      shared && options.store
        ? new StateRateLimiter({
            store: options.store,
            logger: options.logger,
            qps: options.qps,
            windowMs: options.windowMs,
            maxWaitMs: options.maxWaitMs,
            scope: `cards:${options.clientId}`,
          })
        : new WindowRateLimiter({ qps: options.qps, windowMs: options.windowMs });
    this.#cooldownKey = `cards:${options.clientId}:paused-until`;
  }

  /** Whether turns are shared with other instances through a store. */
  get shared(): boolean {
    return this.#store !== undefined;
  }

  stats(): CardPacerStats {
    return { ...this.#stats };
  }

  /**
   * Waits for a turn (no pause in force, a free slot in the window), then runs `call`. Waiting calls
   * get turns by `priority` (`close` before `start` before `frame`: finishing a reply matters more than
   * one more intermediate frame), first come first served within one. A QPS 403 from `call` starts a
   * pause (here and in the store) and is rethrown.
   */
  async run<T>(call: () => Promise<T>, priority: CardCallPriority = 'frame'): Promise<T> {
    await new Promise<void>((resolve) => {
      this.#queues[PRIORITY[priority]]!.push(resolve);
      if (!this.#dispatching) void this.#dispatch();
    });
    this.#stats.calls += 1;
    this.#inFlight += 1;
    try {
      const result = await call();
      this.#strikes = 0;
      if (this.#factor < 1) this.#factor = Math.min(1, this.#factor + 0.01);
      return result;
    } catch (err) {
      if (isOpenApiError(err) && err.kind === 'rate-limit') await this.#backoff(err);
      throw err;
    } finally {
      this.#inFlight -= 1;
      this.#slotFreed?.();
    }
  }

  /** Hands out turns one at a time, each to the most urgent waiter when its slot comes. */
  async #dispatch(): Promise<void> {
    this.#dispatching = true;
    try {
      while (this.#queues.some((q) => q.length > 0)) {
        while (this.#inFlight >= (this.#o.maxInFlight ?? 4))
          await new Promise<void>((resolve) => {
            this.#slotFreed = resolve;
          });
        this.#slotFreed = undefined;
        await this.#turn();
        const next = this.#queues.find((q) => q.length > 0)?.shift();
        next?.();
      }
    } finally {
      this.#dispatching = false;
    }
  }

  async #turn(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      await this.#waitPause();
      try {
        await this.#limiter.acquire(BUDGET_KEY);
      } catch (err) {
        // ERR_RATE_LIMITED (no turn within maxWaitMs): the store is contended; go on, as the limiter
        // does when the store is down, rather than stall every card of the app.
        if (!isCodedError(err)) throw err;
        this.#logger.warn({ err }, 'card pacer: no turn from the shared limiter, going ahead');
      }
      // A pause that began while this caller waited for its slot: wait it out and take a new slot.
      if (Date.now() < this.#pausedUntil) continue;
      if (this.#factor < 1) await this.#slowStart();
      return;
    }
  }

  /** After 403s: this instance also spaces its calls to `qps x factor` per window. */
  async #slowStart(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.#nextAt);
    this.#nextAt = at + this.windowMs / (this.qps * this.#factor);
    if (at > now) await sleep(at - now);
  }

  async #waitPause(): Promise<void> {
    for (;;) {
      const until = Math.max(this.#pausedUntil, await this.#sharedPause());
      const wait = until - Date.now();
      if (wait <= 0) return;
      await sleep(wait);
    }
  }

  /** The pause another instance recorded (0 when none, or when the store cannot be read). */
  async #sharedPause(): Promise<number> {
    if (!this.#store) return 0;
    try {
      const raw = await this.#store.get(this.#cooldownKey);
      const until = raw === null ? 0 : Number(raw);
      if (Number.isFinite(until) && until > this.#pausedUntil) this.#pausedUntil = until;
      return Number.isFinite(until) ? until : 0;
    } catch (err) {
      if (!isCodedError(err)) throw err;
      return 0; // the store is down: the local pause and limiter still hold (logged by the store)
    }
  }

  async #backoff(err: OpenApiError): Promise<void> {
    this.#stats.qpsLimited += 1;
    const now = Date.now();
    if (now < this.#pausedUntil) return; // already paused: that pause covers this 403
    this.#factor = Math.max(0.125, this.#factor / 2);
    this.#strikes += 1;
    const base = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (this.#strikes - 1));
    const delay = Math.round(base * (1 + Math.random() * 0.25));
    this.#pausedUntil = now + delay;
    this.#stats.backoffs += 1;
    this.#logger.warn(
      {
        api: err.api,
        apiCode: err.apiCode,
        requestId: err.requestId,
        pauseMs: delay,
        strikes: this.#strikes,
      },
      'card API answered the QPS limit: pausing every card call of the app',
    );
    if (!this.#store) return;
    try {
      await this.#store.set(this.#cooldownKey, String(this.#pausedUntil), delay);
    } catch (storeErr) {
      if (!isCodedError(storeErr)) throw storeErr;
    }
  }
}
