/**
 * @dingtalk-skills/sdk: DingTalk skills that act with the user's delegated credentials (用户代理凭证).
 * Folders: protocol/ (wire codecs, pure), stream/ (Stream client), logging/, errors/.
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
export * from './protocol/index.js';
export * from './skills/index.js';
export * from './spec/index.js';
export * from './state/index.js';
export * from './stream/index.js';
export { USER_AGENT, VERSION } from './version.js';
