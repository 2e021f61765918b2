import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { InProcessRefreshLock, type RefreshLock } from '../credentials/refresh-lock.js';
import type { Logger } from '../logging/logger.js';
import { checkKey, type StateStore, stateError } from './state-store.js';

/** Options of {@link StateRefreshLock}. */
export interface StateRefreshLockOptions {
  store: StateStore;
  logger: Logger;
  /**
   * How long a holder owns the lock at most (default 30 s). A holder that crashes frees the lock when
   * its lease runs out; a holder still running then has lost it (logged at warn when it releases).
   * Keep it above the longest refresh call.
   */
  leaseMs?: number;
  /** How long `run` waits for the lock before failing with ERR_STATE (default lease + 15 s). */
  maxWaitMs?: number;
  /** First pause between tries while the lock is held elsewhere (default 20 ms); doubles up to `maxPollMs`. */
  minPollMs?: number;
  /** Longest pause between tries (default 250 ms). */
  maxPollMs?: number;
  /** Namespace inside the store (default `lock:refresh`). */
  namespace?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The credentials' {@link RefreshLock} across processes: a lease lock on a {@link StateStore}. To take
 * it, `setIfAbsent(lockKey, holderId, leaseMs)`; while another holder has it, poll with growing
 * pauses; to release, `compareAndSwap(lockKey, holderId, null)`, so a holder whose lease ran out
 * never deletes the lock of the one that took over. Within one process, callers queue on an
 * in-process lock first, so only one of them polls the store per key.
 */
export class StateRefreshLock implements RefreshLock {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #local = new InProcessRefreshLock();
  readonly #leaseMs: number;
  readonly #maxWaitMs: number;
  readonly #minPollMs: number;
  readonly #maxPollMs: number;
  readonly #namespace: string;
  readonly #holderPrefix = `${hostname()}:${process.pid}:`;

  constructor(options: StateRefreshLockOptions) {
    this.#store = options.store;
    this.#logger = options.logger.child({ component: 'refresh-lock', store: options.store.kind });
    this.#leaseMs = positive('leaseMs', options.leaseMs ?? 30_000);
    this.#maxWaitMs = positive('maxWaitMs', options.maxWaitMs ?? this.#leaseMs + 15_000);
    this.#minPollMs = positive('minPollMs', options.minPollMs ?? 20);
    this.#maxPollMs = Math.max(this.#minPollMs, positive('maxPollMs', options.maxPollMs ?? 250));
    this.#namespace = checkKey(options.namespace ?? 'lock:refresh');
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.#namespace}:${checkKey(key)}`;
    return this.#local.run(key, async () => {
      const holder = await this.#acquire(lockKey);
      const heldSince = Date.now();
      try {
        return await fn();
      } finally {
        await this.#release(lockKey, holder, heldSince);
      }
    });
  }

  async #acquire(lockKey: string): Promise<string> {
    const holder = this.#holderPrefix + randomUUID();
    const started = Date.now();
    let pause = this.#minPollMs;
    let waited = false;
    for (;;) {
      if (await this.#store.setIfAbsent(lockKey, holder, this.#leaseMs)) {
        if (waited)
          this.#logger.debug({ lockKey, waitedMs: Date.now() - started }, 'refresh lock taken after waiting');
        return holder;
      }
      waited = true;
      const left = started + this.#maxWaitMs - Date.now();
      if (left <= 0) {
        const current = await this.#store.get(lockKey);
        throw stateError(
          `refresh lock "${lockKey}" still held by ${current ?? '(released just now)'} after ${this.#maxWaitMs} ms`,
        );
      }
      // Jitter (0.5x to 1x) so waiters in several processes do not poll in step.
      await sleep(Math.min(left, pause * (0.5 + Math.random() / 2)));
      pause = Math.min(this.#maxPollMs, pause * 2);
    }
  }

  async #release(lockKey: string, holder: string, heldSince: number): Promise<void> {
    let released: boolean;
    try {
      released = await this.#store.compareAndSwap(lockKey, holder, null);
    } catch (err) {
      // The lease frees the lock anyway; the work itself is done, so report and carry on.
      this.#logger.warn(
        { lockKey, err, leaseMs: this.#leaseMs },
        'refresh lock: release failed; the lock frees itself when its lease ends',
      );
      return;
    }
    if (!released)
      this.#logger.warn(
        { lockKey, heldMs: Date.now() - heldSince, leaseMs: this.#leaseMs },
        'refresh lock: the lease ran out before release (another holder may have run at the same time); raise leaseMs',
      );
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`StateRefreshLock: ${name} must be a positive number of ms, got ${value}`);
  return value;
}
