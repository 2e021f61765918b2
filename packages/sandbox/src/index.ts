/**
 * @dingtalk-skills/sandbox: a local DingTalk on loopback: Stream gateway, control API, OpenAPI with
 * user tokens, OAuth consent.
 */

export * from './bots/index.js';
export * from './cards/index.js';
export { SandboxClock } from './clock.js';
export type { SandboxContext } from './context.js';
export {
  CONTROL_PREFIX,
  ControlError,
  type ControlErrorBody,
  type ControlExtension,
  parseInput,
} from './control/index.js';
export * from './gateway/index.js';
export * from './mcp-client/index.js';
export {
  DEFAULT_CALLBACK_REDELIVERY,
  type SandboxApp,
  type SandboxAppInput,
  type SandboxOptions,
  type SandboxOptionsInput,
  sandboxAppSchema,
  sandboxOptionsSchema,
} from './options.js';
export * from './platform/index.js';
export { registerPlatform } from './platform-routes.js';
export { SEED_APP, SEED_CORP, SEED_USERS, type SeedUser } from './seed.js';
export { createSandbox, parseSandboxOptions, type Sandbox } from './server.js';
export { createSelfSignedTls, type TlsFiles } from './tls/self-signed.js';
