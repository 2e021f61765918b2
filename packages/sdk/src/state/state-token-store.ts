import { openOrWarn } from '../credentials/open-or-warn.js';
import { TokenCipher } from '../credentials/token-cipher.js';
import { type StoredUserToken, sealToken, type TokenStore } from '../credentials/token-store.js';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { checkKey, type StateStore } from './state-store.js';

/** Options of {@link StateTokenStore}. */
export interface StateTokenStoreOptions {
  store: StateStore;
  /**
   * Encrypts every token (AES-256-GCM, the credentials' {@link TokenCipher}); from `DINGTALK_TOKEN_KEY`.
   * Required for SQLite and Redis, whose data outlive the process; a memory store gets a random key
   * that lives as long as this object when none is given.
   */
  cipher?: TokenCipher;
  logger: Logger;
  /** Namespace inside the store (default `token`). */
  namespace?: string;
}

/**
 * The credentials' {@link TokenStore} over a {@link StateStore}, so user tokens are shared by every
 * instance that shares the store. Only sealed values are written (`v1.<keyId>.<iv>.<tag>.<data>`,
 * bound to the token key), so the SQLite file and the Redis keys never hold a token in clear text.
 * A value that cannot be opened (its key rotated out, damaged) reads as absent, with a warning.
 */
export class StateTokenStore implements TokenStore {
  readonly #store: StateStore;
  readonly #cipher: TokenCipher;
  readonly #logger: Logger;
  readonly #namespace: string;

  constructor(options: StateTokenStoreOptions) {
    this.#store = options.store;
    this.#logger = options.logger.child({ component: 'token-store', store: options.store.kind });
    this.#namespace = checkKey(options.namespace ?? 'token');
    if (options.cipher) this.#cipher = options.cipher;
    else if (options.store.kind === 'memory') this.#cipher = new TokenCipher(TokenCipher.generateKey());
    else
      throw new DingTalkSkillsError(
        ErrorCode.Config,
        `a ${options.store.kind} token store needs a TokenCipher (set DINGTALK_TOKEN_KEY): tokens are encrypted at rest`,
      );
  }

  async get(key: string): Promise<StoredUserToken | undefined> {
    const sealed = await this.#store.get(this.#key(key));
    if (sealed === null) return undefined;
    return openOrWarn(this.#cipher, key, sealed, this.#logger);
  }

  async set(key: string, value: StoredUserToken, ttlMs?: number): Promise<void> {
    await this.#store.set(this.#key(key), sealToken(this.#cipher, key, value), ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(this.#key(key));
  }

  #key(key: string): string {
    return `${this.#namespace}:${checkKey(key)}`;
  }
}
