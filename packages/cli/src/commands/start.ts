import { type OpsServer, startApp } from '@dingtalk-skills/sdk';
import { readEnv } from '../env.js';
import { loadApp } from '../load-app.js';
import { cliLogger } from '../logger.js';
import { type OpsFlags, opsLine, opsMetrics, startOps } from '../ops.js';
import { onShutdown } from '../signals.js';
import { stateFromEnv } from '../state.js';

export interface StartOptions extends OpsFlags {
  connections: number;
  /** How long a graceful stop lets in-flight handlers run (ms). */
  drainTimeout: number;
  /** Deadline of a Stream handler (ms). */
  handlerTimeout: number;
  /** Length of one EVENT dedup lease (ms), renewed while the handler runs. */
  eventLease: number;
  /** Outbound OpenAPI calls per second per API. */
  qps: number;
}

/** `dingtalk-skills start [app]`: the app alone against DingTalk (or any DINGTALK_API_BASE). */
export async function startCommand(target: string, options: StartOptions): Promise<void> {
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
  const opsPort = options.opsPort ?? env.DINGTALK_OPS_PORT;
  const metrics = opsMetrics(opsPort);
  const state = await stateFromEnv(env, env.DINGTALK_CLIENT_ID, logger, {
    qps: options.qps,
    observer: metrics,
  });
  let running: Awaited<ReturnType<typeof startApp>>;
  try {
    running = await startApp(app, {
      clientId: env.DINGTALK_CLIENT_ID,
      clientSecret: env.DINGTALK_CLIENT_SECRET,
      apiBase: env.DINGTALK_API_BASE,
      logger,
      stream: {
        connections: options.connections,
        handlerTimeoutMs: options.handlerTimeout,
        dedup: { leaseMs: options.eventLease },
        stopTimeoutMs: options.drainTimeout,
      },
      ...state.runtime,
      ...(metrics ? { metrics } : {}),
    });
  } catch (err) {
    await state.close();
    throw err;
  }
  let ops: OpsServer | undefined;
  try {
    ops = await startOps({
      port: opsPort,
      host: options.opsHost ?? env.DINGTALK_OPS_HOST,
      logger,
      stream: running.stream,
      state: state.health,
      metrics,
    });
  } catch (err) {
    await running.stop();
    await state.close();
    throw err;
  }
  process.stdout.write(
    `dingtalk-skills start: ${app.name} (${app.skills.length} skills) connected to ${env.DINGTALK_API_BASE} over Stream (${options.connections} connection(s)), state ${state.kind}\n`,
  );
  if (ops) process.stdout.write(opsLine(ops));
  const app_ = running;
  onShutdown(
    async () => {
      // Intake stops at once (readiness turns 503); running handlers get the drain deadline, then every
      // message is acked, the connections close, then the state store and the ops server.
      const { inFlight, queued } = app_.stream.status();
      process.stderr.write(
        `dingtalk-skills: draining ${inFlight} in-flight handler(s) (up to ${options.drainTimeout} ms); ${queued} queued message(s) left for redelivery\n`,
      );
      await app_.stop();
      await state.close();
      await ops?.close();
      process.stderr.write('dingtalk-skills: stopped\n');
    },
    (m) => process.stderr.write(`dingtalk-skills: ${m}\n`),
  );
}
