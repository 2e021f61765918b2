/**
 * Starts an app as the sandbox's seed app for workloads run in the bench process (e2e, user-api): a real
 * Stream connection to the sandbox's gateway, the sandbox's clock, a silent logger, and optionally a
 * raised outbound limit. Only for bundles from `bundle.ts` (the SDK and the sandbox from source).
 */
import { type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { type AppDefinition, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Starts `app` with the seed app's credentials and waits until its Stream connection is open. `appQps`:
 * the outbound limit per API; undefined = the SDK's default (DingTalk's 20 QPS per API).
 */
export async function startSeedApp(
  sandbox: Sandbox,
  app: AppDefinition,
  appQps: number | undefined,
): Promise<RunningApp> {
  const running = await startApp(app, {
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    ...(appQps === undefined ? {} : { rateLimiter: new WindowRateLimiter({ qps: appQps }) }),
  });
  try {
    await sandbox.gateway.waitForConnection({ clientId: SEED_APP.clientId }, CONNECT_TIMEOUT_MS);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
