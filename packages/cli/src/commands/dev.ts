import { createSandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { generateSpecYaml, type OpsServer, startApp } from '@dingtalk-skills/sdk';
import { readEnv } from '../env.js';
import { loadApp } from '../load-app.js';
import { chooseLogOutput, cliLogger, type LogFormat } from '../logger.js';
import { type McpFlags, mcpLine } from '../mcp.js';
import { BOT_CONSENT_PATH, lateRoutes, type OpsFlags, opsLine, opsMetrics, startOps } from '../ops.js';
import { onShutdown } from '../signals.js';
import { stateFromEnv } from '../state.js';
import { plural } from '../words.js';
import { seedLines } from './sandbox.js';
import { rerunTrustingCa, resolveTls, type TlsFlags, tlsLines } from './tls.js';

export interface DevOptions extends OpsFlags, TlsFlags, McpFlags {
  host: string;
  port?: number;
  ephemeral?: boolean;
  db?: string;
  /** `--callback-redelivery`: delays before each redelivery of an unanswered CALLBACK. */
  callbackRedelivery?: number[];
  connections: number;
  /** `--log-format`; default pretty on a terminal, NDJSON otherwise. */
  logFormat?: LogFormat;
}

/**
 * `dingtalk-skills dev [app]`: the sandbox and the app together. The app connects to the sandbox over a
 * real Stream connection with the seed app's credentials; its skills are registered in the sandbox from
 * the OpenAPI YAML that `spec` prints (the same document the DingTalk console takes).
 */
export async function devCommand(target: string, options: DevOptions): Promise<void> {
  // --tls: the in-process app must trust the CA made now; the command runs again trusting it.
  if (rerunTrustingCa(options, options.host)) return;
  const env = readEnv();
  const tls = resolveTls(options, options.host);
  const { app, entry } = await loadApp(target);
  const yaml = generateSpecYaml(app.skills, {
    title: app.name,
    ...(app.version ? { version: app.version } : {}),
    ...(app.description ? { description: app.description } : {}),
    protocol: 'stream',
  });
  const logger = cliLogger(
    env.LOG_LEVEL,
    [SEED_APP.clientSecret],
    'dingtalk-skills',
    chooseLogOutput(options.logFormat, env.NO_COLOR),
  );
  const sandbox = await createSandbox({
    port: options.port ?? env.DINGTALK_SANDBOX_PORT,
    host: options.host,
    allowedHosts: env.DINGTALK_SANDBOX_ALLOWED_HOSTS,
    logger: logger.child({ part: 'sandbox' }),
    ...(tls.tls ? { tls: tls.tls } : {}),
    // The seed app carries the developer's app name: cards and the consent page show it.
    apps: [{ ...SEED_APP, redirectUris: [...SEED_APP.redirectUris], name: app.name }],
    ...(options.ephemeral ? { ephemeral: true } : {}),
    ...(options.db ? { dbPath: options.db } : {}),
    ...(options.callbackRedelivery ? { callbackRedelivery: options.callbackRedelivery } : {}),
  });
  let running: Awaited<ReturnType<typeof startApp>> | undefined;
  let state: Awaited<ReturnType<typeof stateFromEnv>> | undefined;
  let ops: OpsServer | undefined;
  // A bot's consent callback (机器人授权回调) is served on the ops server (a free port without --ops-port).
  const opsPort = options.opsPort ?? env.DINGTALK_OPS_PORT ?? (app.bot ? 0 : undefined);
  const mcpPort = options.mcpPort ?? env.DINGTALK_MCP_PORT;
  const metrics = opsMetrics(opsPort);
  try {
    state = await stateFromEnv(env, SEED_APP.clientId, logger.child({ part: 'app' }), {
      observer: metrics,
    });
    // The ops server starts before the app: the bot's callback URL must be known when the app starts.
    ops = await startOps({
      port: opsPort,
      host: options.opsHost ?? env.DINGTALK_OPS_HOST,
      logger: logger.child({ part: 'app' }),
      stream: () => running?.stream,
      state: state.health,
      metrics,
      ...(app.bot ? { routes: lateRoutes([BOT_CONSENT_PATH], () => running?.routes) } : {}),
    });
    const consentUrl = app.bot && ops ? `${ops.url}${BOT_CONSENT_PATH}` : undefined;
    if (consentUrl) await registerRedirectUri(sandbox.url, consentUrl, 'the bot consent callback');
    running = await startApp(app, {
      ...state.runtime,
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger: logger.child({ part: 'app' }),
      stream: { connections: options.connections },
      now: () => sandbox.context.clock.now(),
      ...(metrics ? { metrics } : {}),
      // The sandbox plays DingTalk's login (login.dingtalk.com) for the MCP server's authorization.
      ...(mcpPort === undefined
        ? {}
        : {
            mcp: {
              port: mcpPort,
              host: options.mcpHost ?? options.host,
              ...(options.mcpPublicUrl ? { publicUrl: options.mcpPublicUrl } : {}),
              auth: { loginBase: sandbox.url },
            },
          }),
      // The sandbox plays DingTalk's login and `topapi/v2/user/get` for the bot's asSender().
      ...(consentUrl
        ? {
            bot: {
              consent: { callbackUrl: consentUrl, loginBase: sandbox.url },
              oapiBase: sandbox.url,
            },
          }
        : {}),
    });
    const callback = running.mcp?.callbackUrl;
    if (callback) await registerRedirectUri(sandbox.url, callback, 'the MCP callback');
    // A bot-only app has no skills to register.
    if (app.skills.length > 0) {
      const res = await fetch(`${sandbox.url}/sandbox/skills`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: yaml,
      });
      if (!res.ok)
        throw new Error(
          `registering the app's skills in the sandbox failed: ${res.status} ${await res.text()}`,
        );
    }
    if (running.mcp) {
      // The assistant page's MCP client view connects here.
      const set = await fetch(`${sandbox.url}/sandbox/mcp/endpoint`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: running.mcp.url }),
      });
      if (!set.ok) throw new Error(`telling the sandbox the MCP endpoint failed: ${set.status}`);
    }
  } catch (err) {
    await ops?.close();
    await running?.stop();
    await state?.close();
    await sandbox.close();
    throw err;
  }
  const lines = [
    `dingtalk-skills dev: ${app.name}`,
    `  assistant page   ${sandbox.url}/`,
    `  app              ${entry} — ${app.skills.length > 0 || !app.bot ? `${plural(app.skills.length, 'skill')} (${app.skills.map((s) => s.operationId).join(', ')})` : 'no skills'}${app.bot ? ' and a bot (机器人)' : ''}, connected over Stream`,
    `  sandbox          DINGTALK_API_BASE=${sandbox.url}  control API ${sandbox.url}/sandbox/`,
    ...(ops ? [opsLine(ops).trimEnd()] : []),
    ...(running.mcp ? [mcpLine(running.mcp.url, running.mcp.callbackUrl).trimEnd()] : []),
    ...(app.bot && ops
      ? [
          `  bot              chats at ${sandbox.url}/sandbox/bots/conversations, consent callback ${ops.url}${BOT_CONSENT_PATH}`,
        ]
      : []),
    ...tlsLines(tls),
    ...seedLines(),
    app.skills.length > 0
      ? `  try              npx dingtalk-skills invoke whoami --user zhangsan --auto-consent --sandbox ${sandbox.url}`
      : `  try              curl -s ${sandbox.url}/sandbox/bots/messages -H 'content-type: application/json' -d '{"from":"zhangsan","text":"我今天有什么会?"}'`,
    ...(running.mcp
      ? [
          `                   npx dingtalk-skills mcp call whoami --user zhangsan --auto-consent --url ${running.mcp.url}`,
        ]
      : []),
    '  stop with Ctrl+C',
  ];
  const app_ = running;
  const state_ = state;
  const ops_ = ops;
  onShutdown(
    async () => {
      await app_.stop();
      await state_.close();
      await ops_?.close();
      await sandbox.close();
    },
    (m) => process.stderr.write(`dingtalk-skills dev: ${m}\n`),
  );
  // Announced only once a signal stops it gracefully (see start.ts).
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** DingTalk only sends a sign-in back to a redirect URI registered for the app (登录与分享). */
async function registerRedirectUri(sandboxUrl: string, uri: string, what: string): Promise<void> {
  const added = await fetch(`${sandboxUrl}/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri }),
  });
  if (!added.ok) throw new Error(`registering ${what} in the sandbox failed: ${added.status}`);
}
