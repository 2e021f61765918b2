/**
 * `@dingtalk-skills/sdk/internal`: every module's exports, for the sandbox and the CLI packages (and
 * this repository's tests). Not part of the public API: names here may change in any release. Apps use
 * the root export and the documented subpaths.
 */

export * from './app/index.js';
export * from './bots/index.js';
export * from './cards/index.js';
export * from './credentials/index.js';
export * from './errors/index.js';
export * from './health/index.js';
export * from './http/index.js';
export * from './logging/index.js';
export * from './mcp/index.js';
export * from './metrics/index.js';
export * from './openapi/index.js';
export * from './openapi-document/index.js';
export * from './protocol/index.js';
export * from './skills/index.js';
export * from './state/index.js';
export * from './stream/index.js';
export { USER_AGENT, VERSION } from './version.js';
