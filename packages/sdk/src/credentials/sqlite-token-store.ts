import type Database from 'better-sqlite3';
import type { Logger } from '../logging/logger.js';
import { loadSqlite } from '../state/load-sqlite.js';
import { openOrWarn } from './open-or-warn.js';
import type { TokenCipher } from './token-cipher.js';
import { type StoredUserToken, sealToken, type TokenStore } from './token-store.js';

/** Options of {@link SqliteTokenStore}. */
export interface SqliteTokenStoreOptions {
  /** Database file (created if missing). `:memory:` works for tests. */
  path: string;
  /** Encrypts every token at rest (required: a file outlives the process). */
  cipher: TokenCipher;
  logger: Logger;
  /** Table name (default `dingtalk_user_tokens`). */
  table?: string;
  /** Time source for TTLs (default `Date.now`). */
  now?: () => number;
}

type Row = { sealed: string; expires_at: number | null };

/**
 * User tokens in a SQLite file (better-sqlite3, WAL journal): survives restarts and is shared by the
 * processes on one host. Rows hold only ciphertext (AES-256-GCM), the store key and timestamps.
 * `set` is one UPSERT, so a rotated refresh token replaces the old one atomically.
 */
export class SqliteTokenStore implements TokenStore {
  readonly #db: Database.Database;
  readonly #cipher: TokenCipher;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #get: Database.Statement<[string], Row>;
  readonly #set: Database.Statement<[string, string, number | null, number]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #sweep: Database.Statement<[number]>;

  constructor(options: SqliteTokenStoreOptions) {
    const table = options.table ?? 'dingtalk_user_tokens';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table))
      throw new RangeError(`SqliteTokenStore: bad table name ${table}`);
    this.#cipher = options.cipher;
    this.#logger = options.logger.child({ component: 'token-store', store: 'sqlite' });
    this.#now = options.now ?? Date.now;
    this.#db = new (loadSqlite('SqliteTokenStore'))(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
         key TEXT PRIMARY KEY,
         sealed TEXT NOT NULL,
         expires_at INTEGER,
         updated_at INTEGER NOT NULL
       )`,
    );
    this.#get = this.#db.prepare(`SELECT sealed, expires_at FROM ${table} WHERE key = ?`);
    this.#set = this.#db.prepare(
      `INSERT INTO ${table} (key, sealed, expires_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at,
         updated_at = excluded.updated_at`,
    );
    this.#delete = this.#db.prepare(`DELETE FROM ${table} WHERE key = ?`);
    this.#sweep = this.#db.prepare(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ?`);
    this.#logger.debug({ path: options.path, keyId: options.cipher.keyId }, 'SQLite token store opened');
  }

  async get(key: string): Promise<StoredUserToken | undefined> {
    const row = this.#get.get(key);
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= this.#now()) {
      this.#delete.run(key);
      return undefined;
    }
    return openOrWarn(this.#cipher, key, row.sealed, this.#logger);
  }

  async set(key: string, value: StoredUserToken, ttlMs?: number): Promise<void> {
    const now = this.#now();
    this.#set.run(key, sealToken(this.#cipher, key, value), ttlMs === undefined ? null : now + ttlMs, now);
  }

  async delete(key: string): Promise<void> {
    this.#delete.run(key);
  }

  /** Deletes expired rows; returns how many. */
  sweepExpired(): number {
    return this.#sweep.run(this.#now()).changes;
  }

  /** Closes the database file. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
