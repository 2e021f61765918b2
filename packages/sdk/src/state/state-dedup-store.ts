import type { DedupClaim, DedupStore } from '../stream/dedup-store.js';
import { checkKey, type StateStore } from './state-store.js';

/** Options of {@link StateDedupStore}. */
export interface StateDedupStoreOptions {
  /** Namespace inside the store (default `dedup`); give each app its own (e.g. its clientId) when apps share a store. */
  namespace?: string;
}

/** Value of a key whose event was handled. */
const DONE = 'd';
/** Prefix of the value of a key leased to an owner: `p:<owner>`. */
const LEASED = 'p:';
/** Rounds of "taken -> read -> gone" before a claim gives up and answers in-progress (a lease expiring at that very moment). */
const BEGIN_ROUNDS = 3;

/**
 * The Stream client's EVENT dedup over a {@link StateStore}, with the lease protocol (see
 * {@link DedupStore}): `begin` = `setIfAbsent(dedup:<id>, "p:<owner>", lease)`; `renew` =
 * `compareAndSwap("p:<owner>" -> "p:<owner>", lease)`; `complete` = `compareAndSwap("p:<owner>" -> "d",
 * ttl)`; `release` = `compareAndSwap("p:<owner>" -> absent)`. Over
 * SQLite or Redis, an event one instance handled is acked without running again when DingTalk
 * redelivers it to another instance, and an event whose instance died mid-handler is handled by
 * another one once the lease runs out.
 *
 * Any value other than a lease (e.g. a timestamp written by earlier versions) reads as done.
 */
export class StateDedupStore implements DedupStore {
  readonly #store: StateStore;
  readonly #namespace: string;

  constructor(store: StateStore, options: StateDedupStoreOptions = {}) {
    this.#store = store;
    this.#namespace = checkKey(options.namespace ?? 'dedup');
  }

  async begin(key: string, owner: string, leaseMs: number): Promise<DedupClaim> {
    const k = this.#key(key);
    const value = LEASED + checkKey(owner);
    for (let round = 0; round < BEGIN_ROUNDS; round++) {
      if (await this.#store.setIfAbsent(k, value, leaseMs)) return 'claimed';
      const current = await this.#store.get(k);
      // Gone between the two calls (a lease ran out or was released): try to take it again.
      if (current === null) continue;
      return current.startsWith(LEASED) ? 'in-progress' : 'done';
    }
    return 'in-progress';
  }

  async complete(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const k = this.#key(key);
    if (await this.#store.compareAndSwap(k, LEASED + checkKey(owner), DONE, ttlMs)) return true;
    // The lease ran out during the handler: still ours to mark, unless another delivery took the key.
    return this.#store.setIfAbsent(k, DONE, ttlMs);
  }

  /** Extends `owner`'s lease: `compareAndSwap("p:<owner>" -> "p:<owner>", lease)`. */
  renew(key: string, owner: string, leaseMs: number): Promise<boolean> {
    const value = LEASED + checkKey(owner);
    return this.#store.compareAndSwap(this.#key(key), value, value, leaseMs);
  }

  async release(key: string, owner: string): Promise<void> {
    await this.#store.compareAndSwap(this.#key(key), LEASED + checkKey(owner), null);
  }

  #key(eventId: string): string {
    return `${this.#namespace}:${checkKey(eventId)}`;
  }
}
