import { z } from 'zod';
import type { TokenCipher } from './token-cipher.js';

/** A user's delegated token (用户代理凭证) as stored between invocations. */
export interface StoredUserToken {
  /** The user the token acts as. */
  unionId: string;
  accessToken: string;
  /** Absent when DingTalk issued none; then the token cannot be refreshed. */
  refreshToken?: string | undefined;
  /** Access token expiry, ms since the epoch. */
  expiresAt: number;
  corpId?: string | undefined;
  /** When this token was issued or last refreshed, ms since the epoch. */
  updatedAt: number;
}

/**
 * Where user tokens live between invocations. Small and async so it can sit on memory, SQLite or
 * Redis. `set` replaces the whole value at once (a rotated refresh token is never half-written);
 * after `ttlMs` the value is gone. Implementations keep tokens encrypted at rest.
 */
export interface TokenStore {
  get(key: string): Promise<StoredUserToken | undefined>;
  set(key: string, value: StoredUserToken, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

const storedUserTokenSchema = z.object({
  unionId: z.string().min(1),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  expiresAt: z.number().finite(),
  corpId: z.string().optional(),
  updatedAt: z.number().finite(),
});

/** Encrypts a token for the row `key` (the key is bound into the ciphertext). */
export function sealToken(cipher: TokenCipher, key: string, value: StoredUserToken): string {
  const plain: StoredUserToken = {
    unionId: value.unionId,
    accessToken: value.accessToken,
    expiresAt: value.expiresAt,
    updatedAt: value.updatedAt,
  };
  if (value.refreshToken) plain.refreshToken = value.refreshToken;
  if (value.corpId) plain.corpId = value.corpId;
  return cipher.encrypt(JSON.stringify(plain), key);
}

/** Opens a sealed token of row `key`; throws TokenCipherError, or a ZodError for a well-sealed but wrong shape. */
export function openToken(cipher: TokenCipher, key: string, sealed: string): StoredUserToken {
  return storedUserTokenSchema.parse(JSON.parse(cipher.decrypt(sealed, key)));
}
