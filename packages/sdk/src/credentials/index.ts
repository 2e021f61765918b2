/**
 * credentials/: users' delegated tokens (用户代理凭证): resolving one per invocation, exchanging
 * codes, single-flight refresh under a pluggable lock, encrypted stores, and the error that makes the
 * assistant show its authorization card.
 */
export {
  AuthorizationRequiredError,
  type AuthorizationRequiredOptions,
  IdentityMismatchError,
  toAuthorizationRequired,
} from './authorization-required.js';
export { InProcessRefreshLock, type RefreshLock } from './refresh-lock.js';
export {
  TokenCipher,
  TokenCipherError,
  type TokenCipherFailure,
  type TokenKeyInput,
} from './token-cipher.js';
export type { TokenCallResult, UserTokenObserver } from './token-observer.js';
export { openToken, type StoredUserToken, sealToken, type TokenStore } from './token-store.js';
export {
  type HeldUserToken,
  type RenewToken,
  UserTokenHandle,
  type UserTokenOrigin,
} from './user-token-handle.js';
export {
  type ResolveUserTokenInput,
  UserTokenManager,
  type UserTokenManagerOptions,
} from './user-token-manager.js';
