import type { Logger } from '../logging/logger.js';
import { openOrWarn } from './open-or-warn.js';
import { TokenCipher } from './token-cipher.js';
import { type StoredUserToken, sealToken, type TokenStore } from './token-store.js';

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  logger: Logger;
  /** Default: a random key that lives as long as the store (tokens are ciphertext in memory too). */
  cipher?: TokenCipher;
  /** Time source for TTLs (default `Date.now`). */
  now?: () => number;
}

/**
 * Tokens in this process's memory: for development and single-process use. Lost on restart and not
 * shared between instances (it says so in the log when created). Values are kept encrypted, like
 * every store, so behaviour is the same everywhere.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #rows = new Map<string, { sealed: string; expiresAt: number | undefined }>();
  readonly #cipher: TokenCipher;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(options: MemoryTokenStoreOptions) {
    this.#cipher = options.cipher ?? new TokenCipher(TokenCipher.generateKey());
    this.#logger = options.logger.child({ component: 'token-store', store: 'memory' });
    this.#now = options.now ?? Date.now;
    this.#logger.info(
      {},
      'user tokens are kept in memory: one process only, lost on restart (development); use a SQLite or Redis store to share them',
    );
  }

  async get(key: string): Promise<StoredUserToken | undefined> {
    const row = this.#rows.get(key);
    if (!row) return undefined;
    if (row.expiresAt !== undefined && row.expiresAt <= this.#now()) {
      this.#rows.delete(key);
      return undefined;
    }
    return openOrWarn(this.#cipher, key, row.sealed, this.#logger);
  }

  async set(key: string, value: StoredUserToken, ttlMs?: number): Promise<void> {
    const sealed = sealToken(this.#cipher, key, value);
    this.#rows.set(key, { sealed, expiresAt: ttlMs === undefined ? undefined : this.#now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.#rows.delete(key);
  }

  /** Number of rows (expired ones included until read). */
  get size(): number {
    return this.#rows.size;
  }
}
