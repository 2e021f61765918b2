import { z } from 'zod';
import type { BotRunner } from '../bots/bot-runner.js';
import type { CardStreamer } from '../bots/card-streamer.js';
import type { RefreshLock } from '../credentials/refresh-lock.js';
import type { TokenStore } from '../credentials/token-store.js';
import { UserTokenManager } from '../credentials/user-token-manager.js';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { HttpRoute } from '../health/ops-server.js';
import { createLogger, type Logger } from '../logging/logger.js';
import type { McpOptions, RunningMcpServer } from '../mcp/mcp-server.js';
import { startMcpServer } from '../mcp/start.js';
import type { Metrics } from '../metrics/metrics.js';
import { createOpenApiClient, type OpenApiClient } from '../openapi/client.js';
import type { RateLimiter } from '../openapi/rate-limiter.js';
import type { UserApi } from '../openapi/user-api.js';
import { MAX_TIMEOUT_MS } from '../skills/deadlines.js';
import type { HttpReceiverOptions } from '../skills/receivers/http.js';
import { SkillsApp } from '../skills/skills-app.js';
import { createMemorySharedState, type SharedState } from '../state/shared-state.js';
import type { StateStore } from '../state/state-store.js';
import { StreamClient } from '../stream/client.js';
import type { StreamClientConfig } from '../stream/config.js';
import type { DedupStore } from '../stream/dedup-store.js';
import { type BotRuntimeOptions, createBotRuntime } from './bot-runtime.js';
import type { AppDefinition } from './define-app.js';

/** Everything a running app needs besides its definition. Validated; never read from the environment. */
export interface AppRuntimeConfig {
  clientId: string;
  clientSecret: string;
  /** OpenAPI and Stream gateway base (default `https://api.dingtalk.com`). */
  apiBase?: string;
  logger?: Logger;
  /** Stream client options (pool size, in-flight bound, keepalive, backoff...). */
  stream?: Omit<
    StreamClientConfig,
    'clientId' | 'clientSecret' | 'apiBase' | 'logger' | 'dedupStore' | 'observer'
  >;
  /**
   * Where the app keeps its state: users' tokens (encrypted), EVENT dedup, refresh locks, rate budgets and
   * idempotent answers. Pass `await createSharedState({ url: 'redis://…' | 'sqlite:…', … })` when
   * instances share the load. Default: `createMemorySharedState` (this process only; the same code and
   * limits as the CLI's `DINGTALK_STATE=memory:`). The fields below override single parts of it.
   */
  state?: SharedState;
  /** Where EVENT ids are claimed (default: `state.dedupStore`). */
  dedupStore?: DedupStore;
  /** Where users' tokens are kept (default: `state.tokenStore`). */
  tokenStore?: TokenStore;
  /** Key that encrypts stored tokens in the default memory state (AES-256-GCM). Default: a random key per process. */
  tokenKey?: string;
  /** Exclusion around a user's refresh (default: `state.refreshLock`). */
  refreshLock?: RefreshLock;
  /** Outbound rate limiter shared by every OpenAPI call (default: `state.rateLimiter`, 20 QPS per API). */
  rateLimiter?: RateLimiter;
  /** Where `idempotent` skills remember their answers for a redelivery (default: `state.store`). */
  answerStore?: StateStore;
  /** Deadline of a skill handler (default 8,000 ms). */
  skillTimeoutMs?: number;
  /** HTTP receiver options for `skills.httpHandler()` / `skills.listenHttp()` (optional shared secret). */
  http?: HttpReceiverOptions;
  /** Time source for token expiry (default Date.now; the dev server passes the sandbox clock). */
  now?: () => number;
  /**
   * Prometheus metrics (`new Metrics()`): every part of the app reports to it (Stream messages and
   * connection state, skills, OpenAPI calls, token refreshes). Serve it with `startOpsServer`.
   */
  metrics?: Metrics;
  /**
   * Streams AI cards for the bot's `reply.stream()`. Default: `AiCards` + `aiCardStreamer` built from
   * `bot.cards` (the cards module, docs/cards.md); `bot.cards: false` turns cards off.
   */
  cardStreamer?: CardStreamer;
  /** The bot's consent flow (`ctx.asSender()`), AI cards and shared state (docs/bots.md). */
  bot?: BotRuntimeOptions;
  /** How long `stop()` waits for running bot handlers before aborting them (default 10,000 ms). */
  botDrainMs?: number;
  /**
   * Also serve the skills as MCP tools over Streamable HTTP at `/mcp`, each call running as the
   * DingTalk user who authorized the MCP client (docs/mcp.md). Its clients and tokens live in `state`'s
   * store (or `mcp.auth.state`), so instances sharing `state` share them.
   */
  mcp?: McpOptions;
}

const configSchema = z.object({
  clientId: z.string().min(1, 'clientId is required'),
  clientSecret: z.string().min(1, 'clientSecret is required'),
  apiBase: z.url({ protocol: /^https?$/ }).optional(),
  skillTimeoutMs: z.number().int().positive().max(MAX_TIMEOUT_MS).optional(),
  tokenKey: z.string().min(1).optional(),
});

/** A running app: its Stream connection, its skills and its OpenAPI client. */
export interface RunningApp {
  readonly stream: StreamClient;
  readonly skills: SkillsApp;
  readonly openapi: OpenApiClient;
  readonly tokens: UserTokenManager;
  /** The bot's runner when the app defines `bot` (in-flight count, drain). */
  readonly bot: BotRunner | undefined;
  /**
   * HTTP routes the framework serves, by path (the bot's consent callback): mount them on the ops
   * server (`startOpsServer({ routes })`) or any HTTP server reachable at `bot.consent.callbackUrl`.
   */
  readonly routes: Readonly<Record<string, HttpRoute>>;
  /**
   * The OpenAPI as a user outside any invocation (a scheduled job, a webhook, a queue consumer): their
   * stored token (kept when they authorized a skill), refreshed when expired, single-flight like in a
   * skill. Rejects with AuthorizationRequiredError (`ERR_AUTHORIZATION_REQUIRED`) when the user never
   * authorized the app or the token is gone; calls reject with it too once the grant is revoked.
   */
  asUser(unionId: string): Promise<UserApi>;
  /**
   * Drains the bot's running handlers (aborting them past `drainMs`) and closes its AI cards: part of
   * `stop()`; call it yourself on a runtime built with `createAppRuntime`, after `stream.stop()`.
   */
  closeBot(drainMs: number): Promise<void>;
  /** The MCP server, when `mcp` was configured. */
  readonly mcp?: RunningMcpServer;
  /** Stops intake, drains in-flight handlers, closes the connections and the HTTP pool. */
  stop(): Promise<void>;
}

/** Builds the pieces of an app without connecting (for tests and for HTTP-only deployments). */
export function createAppRuntime(app: AppDefinition, config: AppRuntimeConfig): Omit<RunningApp, 'stop'> {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `invalid app config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}`,
    );
  }
  const logger = config.logger ?? createLogger({ name: 'dingtalk-skills', secrets: [config.clientSecret] });
  const state = config.state ?? defaultState(config, logger);
  const openapi = createOpenApiClient({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    logger,
    ...(config.apiBase ? { apiBase: config.apiBase } : {}),
    rateLimit: config.rateLimiter ?? state.rateLimiter,
    ...(config.now ? { now: config.now } : {}),
    ...(config.metrics ? { observer: config.metrics } : {}),
  });
  const tokenStore = config.tokenStore ?? state.tokenStore;
  const tokens = new UserTokenManager({
    openapi,
    store: tokenStore,
    logger,
    lock: config.refreshLock ?? state.refreshLock,
    ...(config.now ? { now: config.now } : {}),
    ...(config.metrics ? { observer: config.metrics } : {}),
  });
  const skills = new SkillsApp({
    skills: app.skills,
    logger,
    credentials: tokens,
    userApiFor: (source) => openapi.asUser(source),
    appApi: openapi,
    ...(config.skillTimeoutMs ? { skillTimeoutMs: config.skillTimeoutMs } : {}),
    ...(config.http ? { http: config.http } : {}),
    ...(app.middleware ? { middleware: app.middleware } : {}),
    ...(app.onError ? { onError: app.onError } : {}),
    ...(config.metrics ? { observer: config.metrics } : {}),
    answerStore: config.answerStore ?? state.store,
    answerNamespace: config.clientId,
  });
  const dedupStore = config.dedupStore ?? state.dedupStore;
  const stream = new StreamClient({
    ...config.stream,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    logger,
    ...(config.apiBase ? { apiBase: config.apiBase } : {}),
    dedupStore,
    ...(config.metrics ? { observer: config.metrics } : {}),
  });
  config.metrics?.trackStream(stream);
  skills.attach(stream);
  const onEvent = app.onEvent;
  if (onEvent) stream.onEvent(async (event, context) => (await onEvent(event, context)) ?? undefined);
  const botRuntime = app.bot
    ? createBotRuntime({
        bot: app.bot,
        appName: app.name,
        clientId: config.clientId,
        openapi,
        tokens,
        stream,
        dedup: dedupStore,
        logger,
        options: config.bot,
        answerStore: config.answerStore ?? state.store,
        cardStreamer: config.cardStreamer,
        now: config.now,
        metrics: config.metrics,
      })
    : undefined;
  const asUser = async (unionId: string): Promise<UserApi> =>
    openapi.asUser(await tokens.require({ unionId }));
  return {
    stream,
    skills,
    openapi,
    tokens,
    bot: botRuntime?.runner,
    routes: botRuntime?.routes ?? {},
    asUser,
    closeBot: (drainMs: number) => botRuntime?.close(drainMs) ?? Promise.resolve(),
  };
}

/**
 * Serves a runtime's skills as MCP tools (what `startApp(app, { mcp })` does; the CLI's `start` calls it
 * itself). The authorization server keeps its records in `mcp.auth.state`, else in `config.state`'s store
 * (or `config.answerStore`), else in memory.
 */
export function startAppMcp(
  app: AppDefinition,
  runtime: Omit<RunningApp, 'stop' | 'mcp'>,
  config: AppRuntimeConfig,
  options: McpOptions,
): Promise<RunningMcpServer> {
  const shared = config.state?.store ?? config.answerStore;
  const auth =
    options.auth === false ? false : { ...(shared ? { state: shared } : {}), ...(options.auth ?? {}) };
  return startMcpServer(
    {
      appName: app.name,
      skills: runtime.skills.skills,
      invoke: (inv) => runtime.skills.invoke(inv),
      tokens: runtime.tokens,
      appKey: config.clientId,
      logger: config.logger ?? createLogger({ name: 'dingtalk-skills', secrets: [config.clientSecret] }),
    },
    { ...options, auth },
  );
}

/**
 * Starts an app: builds the runtime and opens its Stream connection(s). Resolves once connected;
 * rejects with ERR_CREDENTIALS when DingTalk refuses the app's credentials.
 */
export async function startApp(app: AppDefinition, config: AppRuntimeConfig): Promise<RunningApp> {
  const runtime = createAppRuntime(app, config);
  await runtime.stream.start();
  const mcp = config.mcp
    ? await startAppMcp(app, runtime, config, config.mcp).catch(async (err: unknown) => {
        await runtime.stream.stop();
        throw err;
      })
    : undefined;
  return {
    ...runtime,
    ...(mcp ? { mcp } : {}),
    async stop() {
      await mcp?.close();
      await runtime.stream.stop();
      await runtime.closeBot(config.botDrainMs ?? 10_000);
      await runtime.openapi.close();
    },
  };
}

/** The memory state of an app whose config names none; says once that it is one process only. */
function defaultState(config: AppRuntimeConfig, logger: Logger): SharedState {
  const state = createMemorySharedState({
    logger,
    clientId: config.clientId,
    ...(config.tokenKey === undefined ? {} : { tokenKeys: config.tokenKey }),
  });
  if (config.tokenStore === undefined)
    logger.info(
      { state: 'memory' },
      'app state (users’ tokens, EVENT dedup, locks) is kept in memory: one process only, lost on restart; pass `state: await createSharedState(...)` to share it',
    );
  return state;
}
