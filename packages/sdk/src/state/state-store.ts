import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/** Which implementation a {@link StateStore} is. */
export type StateStoreKind = 'memory' | 'sqlite' | 'redis';

/** The prefix every store puts before its keys unless told otherwise. */
export const DEFAULT_STATE_PREFIX = 'dingtalk-skills:';

/**
 * A small async key/value store with expiry and the two atomic operations that shared state needs
 * (claim once, replace only what you read). Memory serves one process, SQLite the processes of one
 * machine, Redis a fleet; all three give the same answers (one contract test suite runs on each).
 *
 * Values are strings. A key with a TTL is gone once the TTL has passed: every read and every
 * atomic operation treats an expired key as absent, whether or not it has been swept yet.
 */
export interface StateStore {
  /** Which implementation this is (for logs and metrics). */
  readonly kind: StateStoreKind;
  /** The live value of `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Stores `value`, replacing any value and its TTL; without `ttlMs` the key never expires. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Stores `value` only when `key` is absent (or expired). True when this call stored it. Atomic. */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  /**
   * Replaces the value of `key` only when it is currently `expected` (null: only when absent).
   * `next` null deletes the key; otherwise `next` is stored with `ttlMs` (none: no expiry), as
   * {@link set} would. True when the swap happened. Atomic, also across processes.
   */
  compareAndSwap(key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<boolean>;
  /** Removes `key`; true when a live value was there. */
  delete(key: string): Promise<boolean>;
  /**
   * Adds one to the integer at `key` (absent or expired counts as 0) and returns the new count. A
   * key created by this call expires after `ttlMs`; later increments keep that expiry (fixed
   * windows). Fails with ERR_STATE when the key holds something other than an integer.
   */
  incrWithTtl(key: string, ttlMs: number): Promise<number>;
  /** Releases connections, files and timers. Later calls fail with ERR_STATE. Safe to call twice. */
  close(): Promise<void>;
}

/** Options every store takes. */
export interface StateStoreBaseOptions {
  /** Put before every key (default `dingtalk-skills:`), so several apps can share one Redis or file. */
  prefix?: string;
}

/** The ERR_STATE error the stores raise. */
export function stateError(message: string, cause?: unknown): DingTalkSkillsError {
  return new DingTalkSkillsError(ErrorCode.State, message, cause === undefined ? undefined : { cause });
}

/** Checks a key (a non-empty string) and returns it. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new RangeError(`state store: key must be a non-empty string, got ${JSON.stringify(key)}`);
  return key;
}

/** Checks a value (a string) and returns it. */
export function checkValue(value: string): string {
  if (typeof value !== 'string')
    throw new RangeError(`state store: value must be a string, got ${typeof value}`);
  return value;
}

/**
 * Checks a TTL and returns it as a whole number of ms (rounded up, so a TTL never ends early), or
 * undefined for none. A TTL must be positive and finite.
 */
export function checkTtl(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`state store: ttlMs must be a positive number of ms, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** Parses a stored counter; fails with ERR_STATE for anything but a safe integer. */
export function parseCounter(key: string, value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw stateError(`state store: incrWithTtl on "${key}", which holds a value that is not an integer`);
  return n;
}
