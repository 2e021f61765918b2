import type { AppRuntimeConfig, Logger } from '@dingtalk-skills/sdk';
import type { CliEnv } from './env.js';

/** The state-dependent parts of the runtime config, built from DINGTALK_STATE and DINGTALK_TOKEN_KEY. */
export interface CliState {
  runtime: Pick<AppRuntimeConfig, 'tokenKey' | 'tokenStore' | 'dedupStore' | 'refreshLock' | 'rateLimiter'>;
  close(): Promise<void>;
}

export async function stateFromEnv(env: CliEnv, _logger: Logger): Promise<CliState> {
  if (env.DINGTALK_STATE !== 'memory:') {
    throw new Error(`DINGTALK_STATE=${env.DINGTALK_STATE}: only memory: is supported by this build`);
  }
  return {
    runtime: env.DINGTALK_TOKEN_KEY ? { tokenKey: env.DINGTALK_TOKEN_KEY } : {},
    close: async () => undefined,
  };
}
