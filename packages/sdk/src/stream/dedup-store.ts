/** What a lease claim ({@link DedupStore.begin}) found. */
export type DedupClaim =
  /** The key was free: the caller holds it for the lease and runs the handler. */
  | 'claimed'
  /** Another delivery holds a live lease (its handler runs, or ran in a process that died). */
  | 'in-progress'
  /** The event was handled: the caller acks SUCCESS without running the handler. */
  | 'done';

/**
 * Where EVENT ids are claimed so that a redelivered event runs its handler only once (the lease
 * protocol): `begin` marks the key "in progress" by `owner` for a short lease; when the handler
 * succeeds, `complete` turns it into "done" for the long TTL, then the event is acked SUCCESS. A
 * redelivery that finds "in progress" is acked LATER (the platform tries again; if the holder died, the
 * lease has run out by then and the next try runs the handler); one that finds "done" is acked SUCCESS
 * without running it. A handler that fails releases its lease. A process killed mid-handler loses
 * nothing: its lease simply runs out.
 *
 * Implement it over a shared store (Redis `SET key value NX PX ttl`, a SQL unique key) to dedupe across
 * several processes, or use `createSharedState(...).dedupStore`. Every method may answer synchronously
 * or with a promise.
 */
export interface DedupStore {
  /**
   * Marks `key` in progress by `owner` (unique per delivery) for `leaseMs`, unless it is already in
   * progress (`'in-progress'`) or done (`'done'`). Atomic across the processes sharing the store.
   */
  begin(key: string, owner: string, leaseMs: number): Promise<DedupClaim> | DedupClaim;
  /**
   * Marks `key` done for `ttlMs` when `owner` still holds its lease (or the lease ran out and nobody
   * took the key since). False when another owner holds the key or marked it done: the lease ran out
   * during the handler, so the event may have been handled twice.
   */
  complete(key: string, owner: string, ttlMs: number): Promise<boolean> | boolean;
  /**
   * Gives `owner`'s lease of `key` back, so a redelivery runs the handler again (after a failure or
   * LATER). A key marked done or leased to another owner stays.
   */
  release(key: string, owner: string): Promise<void> | void;
  /**
   * Extends `owner`'s lease of `key` to `leaseMs` from now; false when `owner` no longer holds it (it
   * ran out and another delivery took it, or the key was settled). With it the client keeps leases
   * short and renews them while the handler runs (a dead instance's claims run out fast).
   */
  renew?(key: string, owner: string, leaseMs: number): Promise<boolean> | boolean;
}

export interface MemoryDedupStoreOptions {
  /**
   * Most keys kept (default 10 000). Beyond it the oldest are evicted before their TTL, and a
   * redelivery of an evicted event runs its handler again: each such eviction is reported to `onEvict`.
   */
  maxEntries?: number;
  /**
   * Told how many live keys (not yet expired) one claim evicted because the store was full. The Stream
   * client logs it (rate-limited) and counts it (`dingtalk_stream_dedup_evictions_total`).
   */
  onEvict?: (count: number) => void;
  /** Clock in ms (default `Date.now`); only for tests of expiry. */
  now?: () => number;
}

/** One key: until when, and who holds its lease (undefined: done). */
interface Entry {
  expires: number;
  owner: string | undefined;
}

/**
 * The default store: in-memory, bounded, TTL + least-recently-claimed eviction. It dedupes within one process only; use a shared store when several processes receive the
 * same app's events. Its bound is `maxEntries` keys **and** the TTL: more than `maxEntries` events within
 * one TTL evicts the oldest marks early (reported to `onEvict`; a redelivery of such an event runs again).
 */
export class MemoryDedupStore implements DedupStore {
  /** Map order is claim order, so the first entries are the oldest. */
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly onEvict: ((count: number) => void) | undefined;
  /** Live keys evicted before their TTL because the store was full, since it was created. */
  evicted = 0;

  constructor(options: MemoryDedupStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    this.onEvict = options.onEvict;
  }

  /** Number of keys held (expired ones included until they are swept). */
  get size(): number {
    return this.entries.size;
  }

  begin(key: string, owner: string, leaseMs: number): DedupClaim {
    const now = this.now();
    const entry = this.live(key, now);
    if (entry !== undefined) return entry.owner === undefined ? 'done' : 'in-progress';
    this.entries.set(key, { expires: now + leaseMs, owner });
    this.evict(now);
    return 'claimed';
  }

  complete(key: string, owner: string, ttlMs: number): boolean {
    const now = this.now();
    const entry = this.live(key, now);
    if (entry !== undefined && entry.owner !== owner) return false;
    // Re-inserted, so the key moves to the young end of the eviction order.
    this.entries.delete(key);
    this.entries.set(key, { expires: now + ttlMs, owner: undefined });
    this.evict(now);
    return true;
  }

  renew(key: string, owner: string, leaseMs: number): boolean {
    const now = this.now();
    const entry = this.live(key, now);
    if (entry === undefined || entry.owner !== owner) return false;
    entry.expires = now + leaseMs;
    return true;
  }

  release(key: string, owner: string): void {
    if (this.entries.get(key)?.owner !== owner) return;
    this.entries.delete(key);
  }

  /** The live entry of `key`; an expired one is dropped. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** Drops expired keys at the old end and, beyond `maxEntries`, the oldest keys. O(evicted). */
  private evict(now: number): void {
    let over = this.entries.size - this.maxEntries;
    let live = 0;
    for (const [key, entry] of this.entries) {
      if (over <= 0 && entry.expires > now) break;
      if (entry.expires > now) live++;
      this.entries.delete(key);
      over--;
    }
    if (live === 0) return;
    this.evicted += live;
    this.onEvict?.(live);
  }
}
