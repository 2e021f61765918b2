/**
 * @dingtalk-skills/sdk: DingTalk skills, bots and MCP tools that act with the user's delegated
 * credentials (用户代理凭证).
 *
 * This root export list is curated (test/packaging/sdk-exports.test.ts snapshots it: every addition is
 * deliberate). More lives in subpaths: `/protocol` (the pure wire codecs), `/state` (state stores and
 * their adapters), `/stream` (the Stream client's parts), `/openapi` (the OpenAPI client and its models),
 * `/bots`, `/cards` (AI cards), `/mcp` (the remote MCP server). `/internal` is shared with the sandbox
 * and the CLI packages and has no stability promise.
 */

// ---- Writing skills, bots and apps -------------------------------------------------------------
// ---- Running an app ----------------------------------------------------------------------------
export {
  type AppDefinition,
  type AppRuntimeConfig,
  createAppRuntime,
  defineApp,
  type EventHandler,
  type RunningApp,
  startApp,
} from './app/index.js';
export {
  type BotContext,
  type BotDefinition,
  type BotMessage,
  type BotReply,
  defineBot,
} from './bots/index.js';
// ---- Ports for shared state (SQLite, Redis or your own) ----------------------------------------
export {
  AuthorizationRequiredError,
  type RefreshLock,
  type StoredUserToken,
  TokenCipher,
  type TokenStore,
} from './credentials/index.js';
// ---- Errors ------------------------------------------------------------------------------------
export { DingTalkSkillsError, ErrorCode, isCodedError } from './errors/index.js';
export { type OpsServer, type OpsServerOptions, startOpsServer } from './health/index.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  type LogLevel,
  silentLogger,
} from './logging/index.js';
export { Metrics, type MetricsOptions } from './metrics/index.js';
export type { RateLimiter } from './openapi/index.js';
export { OpenApiError, UserApi } from './openapi/index.js';
export { generateSpec, generateSpecYaml, type SpecOptions } from './openapi-document/index.js';
// ---- The Stream client alone -------------------------------------------------------------------
export type { StreamEvent } from './protocol/index.js';
export type { AnswerStore, HttpReceiverOptions } from './skills/index.js';
export {
  type AnySkill,
  type AppApi,
  type CurrentUser,
  defineSkill,
  type InputSchema,
  InvalidInputError,
  type Middleware,
  type Skill,
  SkillAnswerError,
  type SkillContext,
  type SkillDefinition,
} from './skills/index.js';
export {
  createMemorySharedState,
  createSharedState,
  type SharedState,
  type SharedStateOptions,
  type StateStore,
} from './state/index.js';
export type { DedupClaim, DedupStore } from './stream/index.js';
export {
  type CallbackMessage,
  type StreamCallbackHandler,
  type StreamCallbackOptions,
  StreamClient,
  type StreamClientConfig,
  type StreamClientEvents,
  type StreamClientState,
  type StreamClientStatus,
  StreamConnectError,
  type StreamEventHandler,
  type StreamHandlerContext,
} from './stream/index.js';

export { USER_AGENT, VERSION } from './version.js';
