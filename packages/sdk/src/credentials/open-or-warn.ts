import type { Logger } from '../logging/logger.js';
import type { TokenCipher } from './token-cipher.js';
import { openToken, type StoredUserToken } from './token-store.js';

/**
 * Opens a sealed row for a store's `get`. A row that cannot be opened (key rotated out, damaged
 * data) is reported at warn with the reason and treated as absent, so the user is asked to authorize
 * again instead of failing forever; the row stays, in case another instance holds the key.
 */
export function openOrWarn(
  cipher: TokenCipher,
  key: string,
  sealed: string,
  logger: Logger,
): StoredUserToken | undefined {
  try {
    return openToken(cipher, key, sealed);
  } catch (err) {
    logger.warn(
      { key, error: err instanceof Error ? err.message : String(err) },
      'stored user token cannot be opened; treating it as absent (user will be asked to authorize)',
    );
    return undefined;
  }
}
