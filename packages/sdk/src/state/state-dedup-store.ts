import type { DedupStore } from '../stream/dedup-store.js';
import { checkKey, type StateStore } from './state-store.js';

/** Options of {@link StateDedupStore}. */
export interface StateDedupStoreOptions {
  /** Namespace inside the store (default `dedup`); give each app its own (e.g. its clientId) when apps share a store. */
  namespace?: string;
}

/**
 * The Stream client's EVENT dedup over a {@link StateStore}: a claim is `setIfAbsent` with the dedup
 * TTL, a release deletes the claim. Over SQLite or Redis, an event one instance handled (or is
 * handling) is not handled again by another instance when DingTalk redelivers it.
 */
export class StateDedupStore implements DedupStore {
  readonly #store: StateStore;
  readonly #namespace: string;

  constructor(store: StateStore, options: StateDedupStoreOptions = {}) {
    this.#store = store;
    this.#namespace = checkKey(options.namespace ?? 'dedup');
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.#store.setIfAbsent(this.#key(key), String(Date.now()), ttlMs);
  }

  async release(key: string): Promise<void> {
    await this.#store.delete(this.#key(key));
  }

  #key(eventId: string): string {
    return `${this.#namespace}:${checkKey(eventId)}`;
  }
}
