import { InProcessRefreshLock, type RefreshLock } from '../credentials/refresh-lock.js';
import { TokenCipher, type TokenKeyInput } from '../credentials/token-cipher.js';
import type { TokenStore } from '../credentials/token-store.js';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { type RateLimiter, WindowRateLimiter } from '../openapi/rate-limiter.js';
import type { DedupStore } from '../stream/dedup-store.js';
import { type CreateStateStoreOptions, createStateStore } from './create-state-store.js';
import { GuardedStateStore, type StateStoreHealth } from './guarded-state-store.js';
import { MemoryStateStore } from './memory-state-store.js';
import { StateDedupStore } from './state-dedup-store.js';
import { StateRateLimiter } from './state-rate-limiter.js';
import { StateRefreshLock } from './state-refresh-lock.js';
import type { StateStore } from './state-store.js';
import { StateTokenStore } from './state-token-store.js';

/**
 * Reads a token key list (the CLI's `DINGTALK_TOKEN_KEY`): keys separated by commas, each `key` or
 * `id:key` (32 bytes as base64 or 64 hex characters). The first key encrypts; all of them decrypt.
 * Keys without an id get one derived from the key. Key material never appears in an error.
 */
export function parseTokenKeys(text: string): TokenKeyInput[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new DingTalkSkillsError(ErrorCode.Config, 'token key list is empty');
  return parts.map((part) => {
    const colon = part.indexOf(':');
    return colon === -1 ? part : { id: part.slice(0, colon), key: part.slice(colon + 1) };
  });
}

/** Options of {@link createSharedState}. */
export interface SharedStateOptions {
  /** State store URL (`DINGTALK_STATE`): `memory:`, `sqlite:<path>`, `redis://...`. */
  url: string;
  logger: Logger;
  /** The app's clientId: its dedup claims and rate budgets are kept apart from other apps on the store. */
  clientId: string;
  /**
   * Token keys (`DINGTALK_TOKEN_KEY`, see {@link parseTokenKeys}) or a ready cipher. Required for SQLite
   * and Redis; a memory store uses a random key when none is given.
   */
  tokenKeys?: string | TokenCipher;
  /** Outbound calls per second per API for this app (default 20). */
  qps?: number;
  /** Key prefix (default `dingtalk-skills:`). */
  prefix?: string;
  /** Refresh lock lease (default 30 s). */
  leaseMs?: number;
  /** Bound on every store call (default 1 000 ms); see {@link CreateStateStoreOptions.timeoutMs}. */
  timeoutMs?: number;
  /** Circuit breaker of the store; see {@link CreateStateStoreOptions.circuit}. */
  circuit?: CreateStateStoreOptions['circuit'];
  /** Told about store failures and outages (e.g. the Prometheus `Metrics`). */
  observer?: CreateStateStoreOptions['observer'];
}

/** The state-backed parts of an app's runtime, ready for `AppRuntimeConfig`. */
export interface SharedState {
  store: StateStore;
  dedupStore: DedupStore;
  tokenStore: TokenStore;
  refreshLock: RefreshLock;
  rateLimiter: RateLimiter;
  /**
   * Whether the store answers: one bounded round trip (answered at once during an outage); always
   * healthy on `memory:`. For readiness (`stateReadiness`).
   */
  health(): Promise<StateStoreHealth>;
  /** Closes the store (connections, files, timers). */
  close(): Promise<void>;
}

/**
 * Opens the state store a URL names and builds dedup, token store, refresh lock and rate limiter on
 * it. On SQLite and Redis all four are shared by every instance using the same store; on `memory:`
 * they serve this process only, so the refresh lock and rate limiter are the in-process ones (a FIFO
 * mutex, and a sliding window that never exceeds `qps` in any second).
 */
export async function createSharedState(options: SharedStateOptions): Promise<SharedState> {
  const cipher = toCipher(options.tokenKeys);
  const store = await createStateStore(options.url, {
    logger: options.logger,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.circuit === undefined ? {} : { circuit: options.circuit }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
  try {
    return sharedStateOn(store, options, cipher);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * The `memory:` shared state, built synchronously: what an app runs on when its config names no
 * state (the same code and limits as the CLI's `DINGTALK_STATE=memory:`). One process only.
 */
export function createMemorySharedState(
  options: Pick<SharedStateOptions, 'logger' | 'clientId' | 'tokenKeys' | 'qps' | 'prefix'>,
): SharedState {
  const store = new MemoryStateStore({
    logger: options.logger,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
  return sharedStateOn(store, options, toCipher(options.tokenKeys));
}

function toCipher(keys: string | TokenCipher | undefined): TokenCipher | undefined {
  if (keys === undefined) return undefined;
  return keys instanceof TokenCipher ? keys : new TokenCipher(parseTokenKeys(keys));
}

/** Dedup, token store, refresh lock and rate limiter on `store` (in-process lock and limiter on memory). */
function sharedStateOn(
  store: StateStore,
  options: Pick<SharedStateOptions, 'logger' | 'clientId' | 'qps' | 'leaseMs'>,
  cipher: TokenCipher | undefined,
): SharedState {
  const tokenStore = new StateTokenStore({ store, logger: options.logger, ...(cipher ? { cipher } : {}) });
  const dedupStore = new StateDedupStore(store, { namespace: `dedup:${options.clientId}` });
  const qps = options.qps ?? 20;
  const local = store.kind === 'memory';
  const refreshLock = local
    ? new InProcessRefreshLock()
    : new StateRefreshLock({
        store,
        logger: options.logger,
        ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      });
  const rateLimiter = local
    ? new WindowRateLimiter({ qps })
    : new StateRateLimiter({ store, logger: options.logger, qps, scope: options.clientId });
  const health = (): Promise<StateStoreHealth> =>
    store instanceof GuardedStateStore ? store.check() : Promise.resolve({ healthy: true });
  return { store, dedupStore, tokenStore, refreshLock, rateLimiter, health, close: () => store.close() };
}
