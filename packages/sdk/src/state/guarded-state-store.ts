import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { LogBudget } from '../logging/log-budget.js';
import type { Logger } from '../logging/logger.js';
import { type StateStore, stateError } from './state-store.js';

/** Why a guarded store call failed. */
export type StateFailureReason = 'timeout' | 'error' | 'circuit_open';

/** Told about failures and health changes of a guarded store (e.g. the Prometheus `Metrics`). */
export interface StateStoreObserver {
  /** A store call failed: it timed out, the store answered an error, or the circuit was open. */
  stateStoreFailed?(operation: string, reason: StateFailureReason): void;
  /** The store turned unhealthy (false) or healthy again (true). */
  stateStoreHealth?(healthy: boolean): void;
}

/** Options of {@link GuardedStateStore}. */
export interface GuardedStateStoreOptions {
  logger: Logger;
  observer?: StateStoreObserver | undefined;
  /** Bound on every call (default 1 000 ms): a call not answered by then fails with ERR_STATE. */
  timeoutMs?: number;
  /** Consecutive failures that open the circuit (default 3). */
  failureThreshold?: number;
  /** While open, calls fail at once; after this long (default 1 000 ms) one call probes the store. */
  openMs?: number;
}

/** What {@link GuardedStateStore.health} says. */
export interface StateStoreHealth {
  healthy: boolean;
  /** Why not healthy (the last failure). */
  reason?: string;
  /** Since when (epoch ms) it is unhealthy. */
  since?: number;
}

const CLOSED = 0;
const OPEN = 1;
/** One probe call is under way; the others fail fast until it answers. */
const PROBING = 2;

/** The key readiness reads to probe the store (absent; only the round trip matters). */
const PROBE_KEY = 'health:probe';

/**
 * A {@link StateStore} with every call bounded and a circuit breaker, so a store that stops answering
 * (Redis frozen in a failover, a stuck network) costs each caller at most `timeoutMs`, and after
 * `failureThreshold` failures in a row nothing waits at all: calls fail at once with ERR_STATE until a
 * probe (one call, every `openMs`) gets an answer again. Callers decide what a failure means: EVENT dedup
 * runs the handler anyway, the rate limiter lets the call through, a skill that needs the user's stored
 * token answers 503. The outage is logged (when it starts, rate-limited, and when it ends), counted
 * (`stateStoreFailed`), and reported by {@link health} / {@link check} for `/readyz`.
 */
export class GuardedStateStore implements StateStore {
  readonly kind: StateStore['kind'];
  readonly #inner: StateStore;
  readonly #log: Logger;
  readonly #observer: StateStoreObserver | undefined;
  readonly #timeoutMs: number;
  readonly #threshold: number;
  readonly #openMs: number;
  /** Outage warnings: a few at once, then one a minute (a flapping store must not flood the log). */
  readonly #budget = new LogBudget(3, 1 / 60);
  #state = CLOSED;
  #failures = 0;
  #openedAt = 0;
  #unhealthySince: number | undefined;
  #lastFailure = '';
  #failedDuringOutage = 0;

  constructor(inner: StateStore, options: GuardedStateStoreOptions) {
    this.kind = inner.kind;
    this.#inner = inner;
    this.#log = options.logger.child({ component: 'state-store', store: inner.kind });
    this.#observer = options.observer;
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? 1_000);
    this.#threshold = positive('failureThreshold', options.failureThreshold ?? 3);
    this.#openMs = positive('openMs', options.openMs ?? 1_000);
  }

  /** The store wrapped. */
  get inner(): StateStore {
    return this.#inner;
  }

  get(key: string): Promise<string | null> {
    return this.#call('get', () => this.#inner.get(key));
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.#call('set', () => this.#inner.set(key, value, ttlMs));
  }

  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.#call('setIfAbsent', () => this.#inner.setIfAbsent(key, value, ttlMs));
  }

  compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs?: number,
  ): Promise<boolean> {
    return this.#call('compareAndSwap', () => this.#inner.compareAndSwap(key, expected, next, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.#inner.delete(key));
  }

  incrWithTtl(key: string, ttlMs: number): Promise<number> {
    return this.#call('incrWithTtl', () => this.#inner.incrWithTtl(key, ttlMs));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Healthy unless the last calls failed `failureThreshold` times in a row (and no probe answered since). */
  health(): StateStoreHealth {
    if (this.#unhealthySince === undefined) return { healthy: true };
    return { healthy: false, reason: this.#lastFailure, since: this.#unhealthySince };
  }

  /**
   * Readiness: one round trip to the store (a read of an absent key, bounded by `timeoutMs`; answered
   * at once while the circuit is open). Never throws.
   */
  async check(): Promise<StateStoreHealth> {
    try {
      await this.get(PROBE_KEY);
    } catch (err) {
      return { healthy: false, reason: (err as Error).message, since: this.#unhealthySince ?? Date.now() };
    }
    return this.health();
  }

  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#state !== CLOSED) {
      if (this.#state === OPEN && Date.now() - this.#openedAt >= this.#openMs) this.#state = PROBING;
      else {
        this.#failedDuringOutage++;
        this.#observer?.stateStoreFailed?.(operation, 'circuit_open');
        throw stateError(
          `state store (${this.kind}) is unavailable: failing fast after ${this.#threshold} failures in a row (${this.#lastFailure})`,
        );
      }
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                stateError(`state store (${this.kind}): ${operation} timed out after ${this.#timeoutMs} ms`),
              ),
            this.#timeoutMs,
          );
        }),
      ]);
      this.#succeeded();
      return result;
    } catch (err) {
      // A bad key or TTL is the caller's mistake, not the store's.
      if (err instanceof RangeError) {
        if (this.#state === PROBING) this.#state = OPEN;
        throw err;
      }
      this.#failed(operation, err);
      throw err instanceof DingTalkSkillsError ? err : stateError(`state store: ${operation} failed`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#state = CLOSED;
    if (this.#unhealthySince === undefined) return;
    const downMs = Date.now() - this.#unhealthySince;
    // At warn, like the outage line it closes, so a log filtered to warnings shows both ends.
    this.#log.warn(
      { downMs, failedCalls: this.#failedDuringOutage },
      'state store answers again: circuit closed',
    );
    this.#unhealthySince = undefined;
    this.#failedDuringOutage = 0;
    this.#observer?.stateStoreHealth?.(true);
  }

  #failed(operation: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const reason: StateFailureReason = /timed? ?out/i.test(message) ? 'timeout' : 'error';
    this.#lastFailure = `${operation}: ${message}`;
    this.#observer?.stateStoreFailed?.(operation, reason);
    this.#failures++;
    if (this.#unhealthySince !== undefined) this.#failedDuringOutage++;
    if (this.#state === PROBING || this.#failures >= this.#threshold) this.#open();
  }

  #open(): void {
    this.#state = OPEN;
    this.#openedAt = Date.now();
    if (this.#unhealthySince !== undefined) return;
    this.#unhealthySince = this.#openedAt;
    this.#failedDuringOutage = this.#failures;
    this.#observer?.stateStoreHealth?.(false);
    const suppressed = this.#budget.take();
    if (suppressed !== undefined)
      this.#log.error(
        {
          failures: this.#failures,
          lastFailure: this.#lastFailure,
          retryEveryMs: this.#openMs,
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        'state store is not answering: circuit open, calls fail fast (EVENTs are handled without dedup, skills that need a stored token answer 503) until it answers again',
      );
  }
}

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0)
    throw new DingTalkSkillsError(ErrorCode.Config, `state store guard: ${name} must be a positive number`);
  return n;
}
