import { startApp } from '@dingtalk-skills/sdk';
import { readEnv } from '../env.js';
import { loadApp } from '../load-app.js';
import { cliLogger } from '../logger.js';
import { onShutdown } from '../signals.js';
import { stateFromEnv } from '../state.js';

/** `dingtalk-skills start [app]`: the app alone against DingTalk (or any DINGTALK_API_BASE). */
export async function startCommand(target: string, options: { connections: number }): Promise<void> {
  const env = readEnv();
  if (!env.DINGTALK_CLIENT_ID || !env.DINGTALK_CLIENT_SECRET) {
    throw new Error(
      "DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are required (the app's AppKey and AppSecret from the developer console)",
    );
  }
  const { app } = await loadApp(target);
  const logger = cliLogger(env.LOG_LEVEL, [
    env.DINGTALK_CLIENT_SECRET,
    ...(env.DINGTALK_TOKEN_KEY ? [env.DINGTALK_TOKEN_KEY] : []),
  ]);
  const state = await stateFromEnv(env, env.DINGTALK_CLIENT_ID, logger);
  const running = await startApp(app, {
    clientId: env.DINGTALK_CLIENT_ID,
    clientSecret: env.DINGTALK_CLIENT_SECRET,
    apiBase: env.DINGTALK_API_BASE,
    logger,
    stream: { connections: options.connections },
    ...state.runtime,
  });
  process.stdout.write(
    `dingtalk-skills start: ${app.name} (${app.skills.length} skills) connected to ${env.DINGTALK_API_BASE} over Stream (${options.connections} connection(s))\n`,
  );
  onShutdown(
    async () => {
      await running.stop();
      await state.close();
    },
    (m) => process.stderr.write(`dingtalk-skills: ${m}\n`),
  );
}
