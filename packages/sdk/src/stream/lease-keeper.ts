import type { Logger } from '../logging/logger.js';
import type { DedupStore } from './dedup-store.js';
import { isThenable } from './job.js';

/** One lease being kept alive. */
interface Held {
  key: string;
  /** Epoch ms after which the lease is no longer renewed (the handler deadline plus the margin). */
  until: number;
}

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  store: DedupStore & Required<Pick<DedupStore, 'renew'>>;
  /** Length of one lease; renewed every third of it. */
  leaseMs: number;
  logger: Logger;
  /** A renewal failed in the store (counted and logged by the caller). */
  onError(key: string, err: unknown): void;
}

/**
 * Keeps EVENT dedup leases alive while their handlers run: every `leaseMs / 3` each held lease is
 * renewed for `leaseMs` (never past its `until`: the handler deadline plus the margin, as without
 * renewal). So a lease can be short (an instance that dies leaves claims that run out within `leaseMs`,
 * well inside the platform's redelivery schedule) and still cover a long handler. One coarse timer for
 * all leases, unref'd; a lease is dropped when its key is settled (done or released).
 */
export class LeaseKeeper {
  readonly #store: LeaseKeeperOptions['store'];
  readonly #leaseMs: number;
  readonly #everyMs: number;
  readonly #log: Logger;
  readonly #onError: LeaseKeeperOptions['onError'];
  /** By owner (unique per delivery). */
  readonly #held = new Map<string, Held>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#store = options.store;
    this.#leaseMs = options.leaseMs;
    this.#everyMs = Math.max(10, Math.floor(options.leaseMs / 3));
    this.#log = options.logger;
    this.#onError = options.onError;
  }

  /** How many leases are being kept. */
  get size(): number {
    return this.#held.size;
  }

  /** Starts renewing `owner`'s lease of `key` until `until` (epoch ms). */
  hold(key: string, owner: string, until: number): void {
    this.#held.set(owner, { key, until });
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#renewAll, this.#everyMs);
      this.#timer.unref();
    }
  }

  /** Stops renewing `owner`'s lease (its key was settled). */
  drop(owner: string | undefined): void {
    if (owner !== undefined) this.#held.delete(owner);
  }

  /** Stops every renewal: what is held runs out within `leaseMs` (this process is going away). */
  dispose(): void {
    this.#held.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readonly #renewAll = (): void => {
    if (this.#held.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = Date.now();
    for (const [owner, held] of this.#held) {
      const left = held.until - now;
      if (left <= 0) {
        // Past the handler deadline plus the margin: the lease runs out as it would without renewal.
        this.#held.delete(owner);
        continue;
      }
      this.#renew(owner, held, Math.min(this.#leaseMs, left));
    }
  };

  #renew(owner: string, held: Held, ms: number): void {
    let result: boolean | Promise<boolean>;
    try {
      result = this.#store.renew(held.key, owner, ms);
    } catch (err) {
      this.#onError(held.key, err);
      return;
    }
    if (!isThenable(result)) {
      if (!result) this.#lost(owner, held);
      return;
    }
    result.then(
      (kept) => {
        if (kept !== true) this.#lost(owner, held);
      },
      (err: unknown) => this.#onError(held.key, err),
    );
  }

  #lost(owner: string, held: Held): void {
    if (this.#held.get(owner) !== held) return; // settled meanwhile
    this.#held.delete(owner);
    this.#log.warn(
      { eventId: held.key, leaseMs: this.#leaseMs },
      'dedup lease lost while its handler runs (it ran out, e.g. during a store outage, and another delivery may have taken the event)',
    );
  }
}
