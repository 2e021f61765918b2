/**
 * Where EVENT ids are claimed so that a redelivered event runs its handler only once.
 *
 * Implement it over a shared store (Redis `SET key 1 NX PX ttl`, a SQL unique key) to dedupe across
 * several processes. Both methods may answer synchronously or with a promise.
 */
export interface DedupStore {
  /**
   * Claims `key` for `ttlMs`. Returns true when this call is the first claim (the caller runs the
   * handler), false when the key is already claimed (handled or in flight).
   */
  claim(key: string, ttlMs: number): Promise<boolean> | boolean;
  /** Forgets a claim, so a redelivery runs the handler again (after a failure or LATER). */
  release?(key: string): Promise<void> | void;
}

export interface MemoryDedupStoreOptions {
  /** Most keys kept; the oldest are evicted first (default 10 000). */
  maxEntries?: number;
  /** Clock in ms (default `Date.now`); only for tests of expiry. */
  now?: () => number;
}

/**
 * The default store: in-memory, bounded, TTL + least-recently-claimed eviction. It dedupes within one
 * process only; use a shared store when several processes receive the same app's events.
 */
export class MemoryDedupStore implements DedupStore {
  /** key -> expiry time (ms). Map order is claim order, so the first entries are the oldest. */
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryDedupStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Number of keys held (expired ones included until they are swept). */
  get size(): number {
    return this.entries.size;
  }

  claim(key: string, ttlMs: number): boolean {
    const now = this.now();
    const expires = this.entries.get(key);
    if (expires !== undefined) {
      if (expires > now) return false;
      this.entries.delete(key);
    }
    this.entries.set(key, now + ttlMs);
    this.evict(now);
    return true;
  }

  release(key: string): void {
    this.entries.delete(key);
  }

  /** Drops expired keys at the old end and, beyond `maxEntries`, the oldest keys. O(evicted). */
  private evict(now: number): void {
    let over = this.entries.size - this.maxEntries;
    for (const [key, expires] of this.entries) {
      if (over <= 0 && expires > now) break;
      this.entries.delete(key);
      over--;
    }
  }
}
