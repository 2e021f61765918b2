/**
 * state/: one small key/value store interface (TTL, set-if-absent, compare-and-swap, counters) with
 * memory, SQLite and Redis implementations chosen by URL, and the adapters that put EVENT dedup, user
 * tokens, the refresh lock and the outbound rate limit on it, so several instances share them.
 */
export {
  type CreateStateStoreOptions,
  createStateStore,
  parseStateStoreUrl,
  type StateStoreLocation,
} from './create-state-store.js';
export {
  GuardedStateStore,
  type GuardedStateStoreOptions,
  type StateFailureReason,
  type StateStoreHealth,
  type StateStoreObserver,
} from './guarded-state-store.js';
export { MemoryStateStore, type MemoryStateStoreOptions } from './memory-state-store.js';
export { RedisStateStore, type RedisStateStoreOptions, redactRedisUrl } from './redis-state-store.js';
export {
  createMemorySharedState,
  createSharedState,
  parseTokenKeys,
  type SharedState,
  type SharedStateOptions,
} from './shared-state.js';
export { SqliteStateStore, type SqliteStateStoreOptions } from './sqlite-state-store.js';
export { StateDedupStore, type StateDedupStoreOptions } from './state-dedup-store.js';
export { StateRateLimiter, type StateRateLimiterOptions } from './state-rate-limiter.js';
export { StateRefreshLock, type StateRefreshLockOptions } from './state-refresh-lock.js';
export {
  DEFAULT_STATE_PREFIX,
  type StateStore,
  type StateStoreBaseOptions,
  type StateStoreKind,
} from './state-store.js';
export { StateTokenStore, type StateTokenStoreOptions } from './state-token-store.js';
