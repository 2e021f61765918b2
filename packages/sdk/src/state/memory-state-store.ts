import type { Logger } from '../logging/logger.js';
import {
  checkKey,
  checkTtl,
  checkValue,
  DEFAULT_STATE_PREFIX,
  parseCounter,
  type StateStore,
  type StateStoreBaseOptions,
  stateError,
} from './state-store.js';

/** Options of {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions extends StateStoreBaseOptions {
  logger: Logger;
  /**
   * Most keys kept (default 100 000). Beyond it keys are evicted, with a warning: short-lived ones first
   * (written with a TTL of at most an hour: dedup claims, leases, rate windows, locks), oldest written
   * first; long-lived ones (user tokens) only when no short-lived key is left.
   */
  maxEntries?: number;
  /** How often expired keys are swept (default 30 s); reads also drop an expired key they meet. */
  sweepIntervalMs?: number;
}

interface Entry {
  value: string;
  /** ms since the epoch, or undefined for no expiry. */
  expiresAt: number | undefined;
}

/**
 * Keys written with a TTL up to this are short-lived and evicted first, so a flood of EVENT dedup
 * claims cannot push a user's token (kept for the refresh token's 30 days) out of a full store.
 */
const SHORT_LIVED_TTL_MS = 3_600_000;

/**
 * State in this process's memory: the default. It serves one process only (it says so in the log
 * once, when created): two instances of an app with memory stores dedupe, lock and rate-limit apart.
 * Bounded; expired keys are dropped when read and by a periodic sweep (an unref'd timer, cleared by
 * {@link close}).
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  /** Short-lived keys, then long-lived ones; each Map in write order (the eviction order). */
  readonly #shortLived = new Map<string, Entry>();
  readonly #entries = new Map<string, Entry>();
  readonly #prefix: string;
  readonly #maxEntries: number;
  readonly #logger: Logger;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;
  #warnedEviction = false;
  #lastFullSweep = 0;

  constructor(options: MemoryStateStoreOptions) {
    this.#prefix = options.prefix ?? DEFAULT_STATE_PREFIX;
    this.#maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1)
      throw new RangeError(
        `MemoryStateStore: maxEntries must be a positive integer, got ${options.maxEntries}`,
      );
    const sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0)
      throw new RangeError(`MemoryStateStore: sweepIntervalMs must be positive, got ${sweepIntervalMs}`);
    this.#logger = options.logger.child({ component: 'state-store', store: 'memory' });
    this.#sweeper = setInterval(() => this.sweepExpired(), sweepIntervalMs);
    this.#sweeper.unref();
    this.#logger.info(
      { maxEntries: this.#maxEntries },
      'state is kept in memory: for one process only (dedup, refresh locks and rate limits are not shared ' +
        'between instances); set DINGTALK_STATE to sqlite:<path> or redis://... to share them',
    );
  }

  /** Number of keys held (expired ones included until swept or read). */
  get size(): number {
    return this.#shortLived.size + this.#entries.size;
  }

  async get(key: string): Promise<string | null> {
    return this.#live(this.#key(key))?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#write(this.#key(key), checkValue(value), checkTtl(ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const k = this.#key(key);
    checkValue(value);
    const ttl = checkTtl(ttlMs);
    if (this.#live(k)) return false;
    this.#write(k, value, ttl);
    return true;
  }

  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs?: number,
  ): Promise<boolean> {
    const k = this.#key(key);
    if (next !== null) checkValue(next);
    const ttl = checkTtl(ttlMs);
    const current = this.#live(k)?.value ?? null;
    if (current !== expected) return false;
    if (next === null) this.#remove(k);
    else this.#write(k, next, ttl);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const k = this.#key(key);
    const live = this.#live(k) !== undefined;
    this.#remove(k);
    return live;
  }

  async incrWithTtl(key: string, ttlMs: number): Promise<number> {
    const k = this.#key(key);
    const ttl = checkTtl(ttlMs);
    if (ttl === undefined) throw new RangeError('state store: incrWithTtl needs a ttlMs');
    const entry = this.#live(k);
    if (!entry) {
      this.#write(k, '1', ttl);
      return 1;
    }
    const n = parseCounter(key, entry.value) + 1;
    entry.value = String(n);
    if (entry.expiresAt === undefined) entry.expiresAt = Date.now() + ttl;
    return n;
  }

  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#closed = true;
    this.#shortLived.clear();
    this.#entries.clear();
  }

  /** Drops every expired key; returns how many. Runs on the sweep timer; public for tests and metrics. */
  sweepExpired(): number {
    const now = Date.now();
    this.#lastFullSweep = now;
    let dropped = 0;
    for (const map of [this.#shortLived, this.#entries])
      for (const [k, e] of map) {
        if (e.expiresAt !== undefined && e.expiresAt <= now) {
          map.delete(k);
          dropped++;
        }
      }
    return dropped;
  }

  #key(key: string): string {
    if (this.#closed) throw stateError('memory state store: used after close()');
    return this.#prefix + checkKey(key);
  }

  /** The entry of `k` when live; drops it when expired. */
  #live(k: string): Entry | undefined {
    const e = this.#shortLived.get(k) ?? this.#entries.get(k);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.#remove(k);
      return undefined;
    }
    return e;
  }

  #remove(k: string): void {
    if (!this.#shortLived.delete(k)) this.#entries.delete(k);
  }

  #write(k: string, value: string, ttl: number | undefined): void {
    // Remove first so the key moves to the end of its Map (the newest end of the eviction order).
    this.#remove(k);
    const map = ttl !== undefined && ttl <= SHORT_LIVED_TTL_MS ? this.#shortLived : this.#entries;
    map.set(k, { value, expiresAt: ttl === undefined ? undefined : Date.now() + ttl });
    if (this.size > this.#maxEntries) this.#evict();
  }

  /**
   * Over the bound: sweep expired keys (a full pass, at most once a second), then walk the short-lived
   * keys and, if still over, the long-lived ones, each from the oldest written, dropping expired keys
   * and, while still over, live ones.
   */
  #evict(): void {
    const now = Date.now();
    if (now - this.#lastFullSweep >= 1000 && this.sweepExpired() > 0 && this.size <= this.#maxEntries) return;
    let over = this.size - this.#maxEntries;
    let evictedLive = false;
    for (const map of [this.#shortLived, this.#entries]) {
      for (const [k, e] of map) {
        const expired = e.expiresAt !== undefined && e.expiresAt <= now;
        if (over <= 0 && !expired) break;
        map.delete(k);
        over--;
        if (!expired) evictedLive = true;
      }
      if (over <= 0) break;
    }
    if (!evictedLive) return;
    if (!this.#warnedEviction) {
      this.#warnedEviction = true;
      this.#logger.warn(
        { maxEntries: this.#maxEntries },
        'memory state store is full: evicting the oldest keys (raise maxEntries or use a shared store)',
      );
    }
  }
}
