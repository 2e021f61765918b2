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
  /** Most keys kept (default 100 000); beyond it the oldest written keys are evicted, with a warning. */
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
 * State in this process's memory: the default. It serves one process only (it says so in the log
 * once, when created): two instances of an app with memory stores dedupe, lock and rate-limit apart.
 * Bounded; expired keys are dropped when read and by a periodic sweep (an unref'd timer, cleared by
 * {@link close}).
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
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
    return this.#entries.size;
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
    if (next === null) this.#entries.delete(k);
    else this.#write(k, next, ttl);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const k = this.#key(key);
    const live = this.#live(k) !== undefined;
    this.#entries.delete(k);
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
    this.#entries.clear();
  }

  /** Drops every expired key; returns how many. Runs on the sweep timer; public for tests and metrics. */
  sweepExpired(): number {
    const now = Date.now();
    this.#lastFullSweep = now;
    let dropped = 0;
    for (const [k, e] of this.#entries) {
      if (e.expiresAt !== undefined && e.expiresAt <= now) {
        this.#entries.delete(k);
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
    const e = this.#entries.get(k);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.#entries.delete(k);
      return undefined;
    }
    return e;
  }

  #write(k: string, value: string, ttl: number | undefined): void {
    // Delete first so the key moves to the end of the Map (the newest end of the eviction order).
    this.#entries.delete(k);
    this.#entries.set(k, { value, expiresAt: ttl === undefined ? undefined : Date.now() + ttl });
    if (this.#entries.size > this.#maxEntries) this.#evict();
  }

  /**
   * Over the bound: sweep expired keys (a full pass, at most once a second), then walk from the oldest
   * written key, dropping expired keys and, while still over, live ones.
   */
  #evict(): void {
    const now = Date.now();
    if (
      now - this.#lastFullSweep >= 1000 &&
      this.sweepExpired() > 0 &&
      this.#entries.size <= this.#maxEntries
    )
      return;
    let over = this.#entries.size - this.#maxEntries;
    let evictedLive = false;
    for (const [k, e] of this.#entries) {
      const expired = e.expiresAt !== undefined && e.expiresAt <= now;
      if (over <= 0 && !expired) break;
      this.#entries.delete(k);
      over--;
      if (!expired) evictedLive = true;
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
