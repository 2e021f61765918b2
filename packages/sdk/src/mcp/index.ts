export type { DingTalkTokens } from './auth/dingtalk-provider.js';
export {
  MCP_PATH,
  type McpOptions,
  type McpServerDeps,
  type RunningMcpServer,
  startMcpServer,
} from './mcp-server.js';
export { toolOf, toolResultOf } from './tools.js';
