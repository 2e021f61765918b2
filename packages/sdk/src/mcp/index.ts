export type { DingTalkTokens } from './auth/dingtalk-provider.js';
export type { McpOptions, McpServerDeps, RunningMcpServer } from './mcp-server.js';
export { MCP_PATH, startMcpServer } from './start.js';
export { toolOf, toolResultOf } from './tools.js';
