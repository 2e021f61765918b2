import { type AppRuntimeConfig, createSharedState, type Logger } from '@dingtalk-skills/sdk';
import type { StateHealthSource } from '@dingtalk-skills/sdk/internal';
import type { StateStoreObserver } from '@dingtalk-skills/sdk/state';
import type { CliEnv } from './env.js';

/** The state-dependent parts of the runtime config, built from DINGTALK_STATE and DINGTALK_TOKEN_KEY. */
export interface CliState {
  runtime: Pick<
    AppRuntimeConfig,
    'tokenStore' | 'dedupStore' | 'refreshLock' | 'rateLimiter' | 'answerStore'
  >;
  kind: string;
  /** For readiness: does the store answer (`stateReadiness`). */
  health: StateHealthSource;
  close(): Promise<void>;
}

/**
 * Opens the state store named by DINGTALK_STATE (`memory:`, `sqlite:<path>`, `redis://...`) and builds
 * EVENT dedup, the encrypted token store (DINGTALK_TOKEN_KEY: `key` or `id:key`, comma separated, first
 * one encrypts), the refresh lock and the outbound rate limiter on it.
 */
export async function stateFromEnv(
  env: CliEnv,
  clientId: string,
  logger: Logger,
  options: { qps?: number; observer?: StateStoreObserver | undefined } = {},
): Promise<CliState> {
  if (env.DINGTALK_STATE !== 'memory:' && !env.DINGTALK_TOKEN_KEY) {
    throw new Error(
      `DINGTALK_STATE=${env.DINGTALK_STATE.replace(/\/\/[^@/]*@/, '//***@')} keeps users' tokens outside this process: set DINGTALK_TOKEN_KEY (e.g. $(openssl rand -base64 32)) so they are encrypted at rest`,
    );
  }
  const shared = await createSharedState({
    url: env.DINGTALK_STATE,
    logger,
    clientId,
    ...(env.DINGTALK_TOKEN_KEY ? { tokenKeys: env.DINGTALK_TOKEN_KEY } : {}),
    ...(options.qps === undefined ? {} : { qps: options.qps }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
  return {
    kind: shared.store.kind,
    health: shared,
    runtime: {
      tokenStore: shared.tokenStore,
      dedupStore: shared.dedupStore,
      refreshLock: shared.refreshLock,
      rateLimiter: shared.rateLimiter,
      answerStore: shared.store,
    },
    close: () => shared.close(),
  };
}
