import { createLogger, DingTalkSkillsError, ErrorCode } from '@dingtalk-skills/sdk';
import { scrubSecrets } from '@dingtalk-skills/sdk/internal';
import Fastify, { type FastifyInstance } from 'fastify';
import { Admission, HostPolicy, useBoundedJson } from './admission/index.js';
import { type Assistant, registerAssistant, SessionWebhooks } from './assistant/index.js';
import { BotChats, registerBotControl, registerRobotRoutes } from './bots/index.js';
import { cardRegistryOf } from './cards/index.js';
import { SandboxClock } from './clock.js';
import type { SandboxContext } from './context.js';
import { type ControlExtension, registerControlApi } from './control/index.js';
import { Gateway } from './gateway/gateway.js';
import { registerGatewayRoutes } from './gateway/routes.js';
import { McpViewSessions, registerMcpView } from './mcp-view/index.js';
import { type SandboxOptions, type SandboxOptionsInput, sandboxOptionsSchema } from './options.js';
import { createPlatform, type Platform } from './platform/index.js';
import { registerPlatform } from './platform-routes.js';

/** A running sandbox. */
export interface Sandbox {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`): the API base (`/v1.0/...`), the gateway and the control API (`/sandbox/...`). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The Stream gateway (push events, invoke callbacks, faults, delivery log, benchmark hook). */
  readonly gateway: Gateway;
  readonly context: SandboxContext;
  /** Apps, users, grants, tokens and the emulated OpenAPI's data (SQLite). */
  readonly platform: Platform;
  /** The AI assistant behind the page at `/` (skills registration, invocations, authorization cards). */
  readonly assistant: Assistant;
  /** Bot chats: single chats and the group with the bot, replies (session webhook, robot APIs). */
  readonly bots: BotChats;
  /** The Fastify instance serving everything on one port. */
  readonly server: FastifyInstance;
  /** Terminates every WebSocket, clears every timer, closes the HTTP server and the database. Idempotent. */
  close(): Promise<void>;
}

/** Validates sandbox options; throws `ERR_CONFIG` naming the failing field. */
export function parseSandboxOptions(input: SandboxOptionsInput = {}): SandboxOptions {
  const result = sandboxOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'options';
  throw new DingTalkSkillsError(
    ErrorCode.Config,
    `sandbox options: ${field}: ${issue?.message ?? 'invalid'}`,
  );
}

/** The host to put into URLs: a wildcard address becomes loopback, IPv6 gets brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a local DingTalk on one port: the gateway's `POST /v1.0/gateway/connections/open` and
 * `/connect` WebSocket, the control API under `/sandbox/`, and the platform (OpenAPI, OAuth).
 *
 * @example
 * const sandbox = await createSandbox({ logger: silentLogger() });
 * // point a Stream client at sandbox.url, then:
 * await sandbox.gateway.invokeCallback({ topic: '/v1.0/graph/api/invoke', data: {...} });
 * await sandbox.close();
 */
export async function createSandbox(input: SandboxOptionsInput = {}): Promise<Sandbox> {
  const options = parseSandboxOptions(input);
  const clock = options.clock ?? new SandboxClock();
  const logger =
    options.logger ??
    createLogger({ name: 'sandbox', level: 'info', secrets: options.apps.map((a) => a.clientSecret) });
  let baseUrl: string | undefined;
  const platform = createPlatform({
    clock,
    logger,
    ...(options.dbPath !== undefined && options.ephemeral !== true
      ? { dbPath: options.dbPath }
      : { ephemeral: true }),
    qpsLimit: options.qpsLimit,
    apps: options.apps.map((a) => ({
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      ...(a.name !== undefined ? { name: a.name } : {}),
      redirectUris: a.redirectUris,
    })),
  });
  const ctx: SandboxContext = {
    clock,
    logger,
    options,
    url: () => {
      if (baseUrl === undefined) throw new Error('the sandbox is not listening yet');
      return baseUrl;
    },
    // The platform's apps table is the one registry: apps added at runtime can connect too.
    findApp: (clientId) => platform.repos.apps.get(clientId),
    authenticateApp: (clientId, clientSecret) => platform.repos.apps.authenticate(clientId, clientSecret),
  };

  // With `tls` the same routes are served over https (the instance's type is the http one's: the
  // routes do not depend on the transport).
  const server = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: Math.max(1024 * 1024, 4 * options.maxFrameBytes),
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  // Admission first: Host (DNS rebinding), Origin (other websites), the control API's content type.
  const hosts = new HostPolicy({ host: options.host, allowedHosts: options.allowedHosts }, () => {
    const bound = server.server.address();
    return typeof bound === 'object' && bound !== null ? bound.port : options.port;
  });
  const admission = new Admission(hosts, logger);
  admission.register(server);
  useBoundedJson(server);
  server.addHook('onResponse', async (req, reply) => {
    logger.debug(
      {
        method: req.method,
        url: scrubSecrets(req.url, []),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'http',
    );
  });

  const gateway = new Gateway(ctx);
  const controlExtensions: ControlExtension[] = [];
  const sessionWebhooks = new SessionWebhooks({ clock, baseUrl: () => ctx.url() });
  const defaultClientId = () => options.apps[0]?.clientId ?? platform.repos.apps.list()[0]?.clientId ?? '';
  const bots = new BotChats({
    clock,
    logger,
    webhooks: sessionWebhooks,
    users: () =>
      platform.repos.users.list().map((u) => ({ userId: u.userId, name: u.name, corpId: u.corpId })),
    invokeCallback: (input) => gateway.invokeCallback(input),
  });
  controlExtensions.push(
    registerBotControl({
      chats: bots,
      webhooks: sessionWebhooks,
      defaultClientId,
      knownUser: (userId) => platform.repos.users.byUserId(userId) !== undefined,
      corpId: () => platform.repos.users.list()[0]?.corpId ?? '',
      knownApp: (clientId) => platform.repos.apps.get(clientId) !== undefined,
      cards: cardRegistryOf(platform),
    }),
  );
  // The page's MCP client view: the official MCP client per seed user, on this server.
  const mcpView = new McpViewSessions({
    callbackUrl: () => `${ctx.url()}/sandbox/mcp/callback`,
    now: () => Date.now(),
  });
  controlExtensions.push(
    registerMcpView({
      sessions: mcpView,
      knownUser: (userId) => platform.repos.users.byUserId(userId) !== undefined,
    }),
  );
  let assistant: Assistant;
  try {
    await registerGatewayRoutes(server, gateway, (headers) => {
      const refusal = admission.checkUpgrade(headers);
      if (refusal !== undefined) admission.log(refusal, 'GET', '/connect', headers);
      return refusal;
    });
    // platform routes: registered by platform/index.ts (OpenAPI, OAuth pages, its control API incl.
    // /sandbox/apps and /sandbox/clock)
    await registerPlatform(server, platform);
    await registerRobotRoutes(server, platform, bots);
    await registerControlApi(server, ctx, gateway, controlExtensions);
    assistant = await registerAssistant(server, {
      ctx,
      gateway,
      platform,
      sessionWebhooks,
      otherReplies: {
        owns: (webhook) => bots.owns(webhook),
        record: (webhook, reply) => bots.recordWebhookReply(webhook, reply),
      },
    });
    await server.listen({ port: options.port, host: options.host });
  } catch (err) {
    await gateway.close();
    await server.close();
    platform.close();
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `the sandbox could not start on ${options.host}:${options.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  baseUrl = `${options.tls ? 'https' : 'http'}://${urlHost(options.host)}:${port}`;
  // The assistant's OAuth callback becomes a login redirect URI of every app (like baymax's).
  assistant.registerCallbackUri(platform.repos.apps.list().map((a) => a.clientId));
  logger.info({ url: baseUrl, apps: options.apps.map((a) => a.clientId) }, 'sandbox listening');

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    host: options.host,
    gateway,
    platform,
    assistant,
    bots,
    context: ctx,
    server,
    close() {
      closing ??= (async () => {
        await gateway.close();
        await server.close();
        platform.close();
        logger.info({ url: baseUrl }, 'sandbox closed');
      })();
      return closing;
    },
  };
}
