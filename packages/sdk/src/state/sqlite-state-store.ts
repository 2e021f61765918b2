import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { loadSqlite } from './load-sqlite.js';
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

/** Options of {@link SqliteStateStore}. */
export interface SqliteStateStoreOptions extends StateStoreBaseOptions {
  /** Database file, created with its folder if missing. `:memory:` works (one connection only). */
  path: string;
  logger: Logger;
  /** Table name (default `dingtalk_state`). */
  table?: string;
  /** How often expired rows are deleted (default 60 s); reads ignore expired rows either way. */
  sweepIntervalMs?: number;
  /** How long a write waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
}

type Row = { value: string; expires_at: number | null };

/**
 * State in a SQLite file (better-sqlite3, WAL journal): survives restarts and is shared by every
 * process on one machine that opens the same file. Each row has an expiry column; reads and atomic
 * operations treat an expired row as absent, and a periodic sweep (an unref'd timer) deletes them.
 * Compare-and-swap and increment run in IMMEDIATE transactions, so they are atomic across processes.
 */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #prefix: string;
  readonly #logger: Logger;
  #sweeper: NodeJS.Timeout | undefined;
  readonly #get: Database.Statement<[string, number], Row>;
  readonly #set: Database.Statement<[string, string, number | null]>;
  readonly #insertOrReplaceExpired: Database.Statement<[string, string, number | null, number]>;
  readonly #delete: Database.Statement<[string], { expires_at: number | null }>;
  readonly #sweep: Database.Statement<[number]>;
  readonly #cas: (
    k: string,
    expected: string | null,
    next: string | null,
    ttl: number | undefined,
  ) => boolean;
  readonly #incr: (k: string, key: string, ttl: number) => number;

  constructor(options: SqliteStateStoreOptions) {
    const table = options.table ?? 'dingtalk_state';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table))
      throw new DingTalkSkillsError(ErrorCode.Config, `SqliteStateStore: bad table name "${table}"`);
    const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0)
      throw new RangeError(`SqliteStateStore: sweepIntervalMs must be positive, got ${sweepIntervalMs}`);
    this.path = options.path;
    this.#prefix = options.prefix ?? DEFAULT_STATE_PREFIX;
    this.#logger = options.logger.child({ component: 'state-store', store: 'sqlite' });
    this.#db = openDatabase(options.path);
    try {
      // busy_timeout first: switching to WAL takes a lock that another process opening the file may hold.
      const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
      this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      switchToWal(this.#db, busyTimeoutMs);
      this.#db.pragma('synchronous = NORMAL');
      this.#db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (
           key TEXT PRIMARY KEY,
           value TEXT NOT NULL,
           expires_at INTEGER
         ) WITHOUT ROWID`,
      );
      this.#db.exec(`CREATE INDEX IF NOT EXISTS ${table}_expires ON ${table} (expires_at)`);
    } catch (cause) {
      this.#db.close();
      throw new DingTalkSkillsError(
        ErrorCode.Config,
        `SQLite state store: cannot set up ${options.path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    this.#get = this.#db.prepare(
      `SELECT value, expires_at FROM ${table} WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
    );
    this.#set = this.#db.prepare(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    // One statement: insert, or take over a row whose expiry has passed; `changes` says which.
    this.#insertOrReplaceExpired = this.#db.prepare(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE ${table}.expires_at IS NOT NULL AND ${table}.expires_at <= ?`,
    );
    this.#delete = this.#db.prepare(`DELETE FROM ${table} WHERE key = ? RETURNING expires_at`);
    this.#sweep = this.#db.prepare(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ?`);
    const update = this.#db.prepare<[string, number | null, string]>(
      `UPDATE ${table} SET value = ?, expires_at = ? WHERE key = ?`,
    );
    const deleteKey = this.#db.prepare<[string]>(`DELETE FROM ${table} WHERE key = ?`);

    this.#cas = this.#db.transaction(
      (k: string, expected: string | null, next: string | null, ttl: number | undefined) => {
        const now = Date.now();
        const current = this.#get.get(k, now)?.value ?? null;
        if (current !== expected) return false;
        if (next === null) deleteKey.run(k);
        else this.#set.run(k, next, ttl === undefined ? null : now + ttl);
        return true;
      },
    ).immediate;

    this.#incr = this.#db.transaction((k: string, key: string, ttl: number) => {
      const now = Date.now();
      const row = this.#get.get(k, now);
      if (!row) {
        this.#set.run(k, '1', now + ttl);
        return 1;
      }
      const n = parseCounter(key, row.value) + 1;
      update.run(String(n), row.expires_at ?? now + ttl, k);
      return n;
    }).immediate;

    this.#sweeper = setInterval(() => this.#sweepQuietly(), sweepIntervalMs);
    this.#sweeper.unref();
    this.#logger.info(
      { path: options.path, table },
      'state is kept in SQLite: shared by the processes on this machine',
    );
  }

  async get(key: string): Promise<string | null> {
    const k = this.#key(key);
    return this.#run('get', () => this.#get.get(k, Date.now())?.value ?? null);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const k = this.#key(key);
    checkValue(value);
    const ttl = checkTtl(ttlMs);
    this.#run('set', () => this.#set.run(k, value, ttl === undefined ? null : Date.now() + ttl));
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const k = this.#key(key);
    checkValue(value);
    const ttl = checkTtl(ttlMs);
    return this.#run('setIfAbsent', () => {
      const now = Date.now();
      return (
        this.#insertOrReplaceExpired.run(k, value, ttl === undefined ? null : now + ttl, now).changes === 1
      );
    });
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
    return this.#run('compareAndSwap', () => this.#cas(k, expected, next, ttl));
  }

  async delete(key: string): Promise<boolean> {
    const k = this.#key(key);
    return this.#run('delete', () => {
      const row = this.#delete.get(k);
      return row !== undefined && (row.expires_at === null || row.expires_at > Date.now());
    });
  }

  async incrWithTtl(key: string, ttlMs: number): Promise<number> {
    const k = this.#key(key);
    const ttl = checkTtl(ttlMs);
    if (ttl === undefined) throw new RangeError('state store: incrWithTtl needs a ttlMs');
    return this.#run('incrWithTtl', () => this.#incr(k, key, ttl));
  }

  /** Deletes expired rows; returns how many. Runs on the sweep timer; public for tests and metrics. */
  sweepExpired(): number {
    if (!this.#db.open) throw stateError('SQLite state store: used after close()');
    return this.#sweep.run(Date.now()).changes;
  }

  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    if (this.#db.open) this.#db.close();
  }

  #key(key: string): string {
    if (!this.#db.open) throw stateError('SQLite state store: used after close()');
    return this.#prefix + checkKey(key);
  }

  /** Runs one database operation; SQLite's own failures (busy, disk full) become ERR_STATE. */
  #run<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DingTalkSkillsError) throw err;
      throw stateError(`SQLite state store: ${op} failed: ${(err as Error).message}`, err);
    }
  }

  #sweepQuietly(): void {
    try {
      const dropped = this.sweepExpired();
      if (dropped > 0) this.#logger.debug({ dropped }, 'expired state rows deleted');
    } catch (err) {
      this.#logger.warn({ err }, 'sweeping expired state rows failed; will try again');
    }
  }
}

function openDatabase(path: string): Database.Database {
  if (path.length === 0) throw new DingTalkSkillsError(ErrorCode.Config, 'SQLite state store: empty path');
  const Sqlite = loadSqlite('SQLite state store (sqlite:)');
  try {
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    return new Sqlite(path);
  } catch (cause) {
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `SQLite state store: cannot open ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * `journal_mode = WAL` on a new file can answer SQLITE_BUSY at once, without waiting on busy_timeout, when
 * other processes switch the same file at the same moment: retried every 10 ms within the busy timeout
 * (start-up only, so the short synchronous waits block nothing that is running yet).
 */
function switchToWal(db: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
