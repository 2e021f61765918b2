import { type AppRuntimeConfig, createAppRuntime, type OpsServer } from '@dingtalk-skills/sdk';
import { startAppMcp } from '@dingtalk-skills/sdk/internal';
import type { RunningMcpServer } from '@dingtalk-skills/sdk/mcp';
import { trimTrailingSlashes } from '@dingtalk-skills/sdk/protocol';
import { watchConnectFailures } from '../connect-watch.js';
import type { CliEnv } from '../env.js';
import { EnvError, readEnv } from '../env.js';
import { loadApp } from '../load-app.js';
import { chooseLogOutput, cliLogger, type LogFormat } from '../logger.js';
import { type McpFlags, mcpLine } from '../mcp.js';
import { type OpsFlags, opsLine, opsMetrics, startOps } from '../ops.js';
import { onShutdown } from '../signals.js';
import { stateFromEnv } from '../state.js';
import { plural } from '../words.js';

export interface StartOptions extends OpsFlags, McpFlags {
  connections: number;
  /** How long a graceful stop lets in-flight handlers run (ms). */
  drainTimeout: number;
  /** Deadline of a Stream handler (ms). */
  handlerTimeout: number;
  /** Length of one EVENT dedup lease (ms), renewed while the handler runs. */
  eventLease: number;
  /** Outbound OpenAPI calls per second per API. */
  qps: number;
  /** `--log-format`; default pretty on a terminal, NDJSON otherwise. */
  logFormat?: LogFormat;
}

/** `dingtalk-skills start [app]`: the app alone against DingTalk (or any DINGTALK_API_BASE). */
export async function startCommand(target: string, options: StartOptions): Promise<void> {
  const env = readEnv();
  const { app } = await loadApp(target);
  if (!env.DINGTALK_CLIENT_ID || !env.DINGTALK_CLIENT_SECRET) {
    throw new EnvError(
      "DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are required (the app's AppKey and AppSecret from the developer console)",
    );
  }
  const logger = cliLogger(
    env.LOG_LEVEL,
    [env.DINGTALK_CLIENT_SECRET, ...(env.DINGTALK_TOKEN_KEY ? [env.DINGTALK_TOKEN_KEY] : [])],
    'dingtalk-skills',
    chooseLogOutput(options.logFormat, env.NO_COLOR),
  );
  const opsPort = options.opsPort ?? env.DINGTALK_OPS_PORT;
  const bot = app.bot ? botOptionsFromEnv(env) : undefined;
  if (bot?.consent && opsPort === undefined)
    throw new EnvError(
      'DINGTALK_BOT_CONSENT_URL is served on the ops port: set --ops-port (or DINGTALK_OPS_PORT) and route the URL to it',
    );
  const metrics = opsMetrics(opsPort);
  const state = await stateFromEnv(env, env.DINGTALK_CLIENT_ID, logger, {
    qps: options.qps,
    observer: metrics,
  });
  let running: ReturnType<typeof createAppRuntime> & { stop(): Promise<void> };
  let mcp: RunningMcpServer | undefined;
  try {
    const config: AppRuntimeConfig = {
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
      ...(bot ? { bot } : {}),
    };
    const runtime = createAppRuntime(app, config);
    // An unreachable DINGTALK_API_BASE is retried for ever; after a few failures say so in one line.
    const unwatch = watchConnectFailures(runtime.stream, env.DINGTALK_API_BASE, (line) =>
      process.stderr.write(line),
    );
    try {
      await runtime.stream.start();
    } catch (err) {
      await runtime.openapi.close();
      throw err;
    } finally {
      unwatch();
    }
    const mcpPort = options.mcpPort ?? env.DINGTALK_MCP_PORT;
    if (mcpPort !== undefined) {
      // Behind a sandbox (DINGTALK_API_BASE not DingTalk's), the sandbox plays DingTalk's login too.
      const loginBase =
        env.DINGTALK_LOGIN_BASE ??
        (new URL(env.DINGTALK_API_BASE).hostname === 'api.dingtalk.com' ? undefined : env.DINGTALK_API_BASE);
      mcp = await startAppMcp(app, runtime, config, {
        port: mcpPort,
        host: options.mcpHost ?? '127.0.0.1',
        ...(options.mcpPublicUrl ? { publicUrl: options.mcpPublicUrl } : {}),
        auth: loginBase ? { loginBase } : {},
      }).catch(async (err: unknown) => {
        await runtime.stream.stop();
        await runtime.openapi.close();
        throw err;
      });
    }
    const mcp_ = mcp;
    running = {
      ...runtime,
      async stop() {
        await mcp_?.close();
        await runtime.stream.stop();
        await runtime.closeBot(options.drainTimeout);
        await runtime.openapi.close();
      },
    };
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
      ...(Object.keys(running.routes).length > 0 ? { routes: { ...running.routes } } : {}),
    });
  } catch (err) {
    await running.stop();
    await state.close();
    throw err;
  }
  const app_ = running;
  onShutdown(
    async () => {
      // Intake stops at once (readiness turns 503); running handlers get the drain deadline, then every
      // message is acked, the connections close, then the state store and the ops server.
      const { inFlight, queued } = app_.stream.status();
      process.stderr.write(
        `dingtalk-skills: draining ${plural(inFlight, 'in-flight handler')} (up to ${options.drainTimeout} ms); ${plural(queued, 'queued message')} (CALLBACKs are still answered; EVENTs are left for redelivery)\n`,
      );
      await app_.stop();
      await state.close();
      await ops?.close();
      process.stderr.write('dingtalk-skills: stopped\n');
    },
    (m) => process.stderr.write(`dingtalk-skills: ${m}\n`),
  );
  // Announced only once SIGTERM/SIGINT stop it gracefully: a supervisor that signals on the ready line
  // must get a drain, not the default (kill at once).
  process.stdout.write(
    `dingtalk-skills start: ${app.name} (${plural(app.skills.length, 'skill')}) connected to ${env.DINGTALK_API_BASE} over Stream (${plural(options.connections, 'connection')}), state ${state.kind}\n`,
  );
  if (ops) process.stdout.write(opsLine(ops));
  if (mcp) process.stdout.write(mcpLine(mcp.url, mcp.callbackUrl));
}

const DINGTALK_API = 'https://api.dingtalk.com';

/**
 * The bot's consent and hosts from the environment: DINGTALK_BOT_CONSENT_URL (the public callback URL),
 * DINGTALK_LOGIN_BASE and DINGTALK_OAPI_BASE (default DingTalk's hosts, or DINGTALK_API_BASE when it
 * names another server, e.g. a sandbox, which serves all three).
 */
export function botOptionsFromEnv(env: CliEnv): NonNullable<AppRuntimeConfig['bot']> {
  const own = trimTrailingSlashes(env.DINGTALK_API_BASE) !== DINGTALK_API;
  const loginBase = env.DINGTALK_LOGIN_BASE ?? (own ? env.DINGTALK_API_BASE : undefined);
  const oapiBase = env.DINGTALK_OAPI_BASE ?? (own ? env.DINGTALK_API_BASE : undefined);
  return {
    ...(oapiBase ? { oapiBase } : {}),
    ...(env.DINGTALK_BOT_CONSENT_URL
      ? {
          consent: {
            callbackUrl: env.DINGTALK_BOT_CONSENT_URL,
            ...(loginBase ? { loginBase } : {}),
          },
        }
      : {}),
  };
}
