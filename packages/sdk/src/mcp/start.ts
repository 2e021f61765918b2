import type { McpOptions, McpServerDeps, RunningMcpServer } from './mcp-server.js';

/** The MCP endpoint's path. */
export const MCP_PATH = '/mcp';

/**
 * Starts the MCP server (Streamable HTTP, stateless) with its OAuth authorization server. The server,
 * the MCP SDK and express load here, on first use: an app without `mcp` never pays for them.
 */
export async function startMcpServer(deps: McpServerDeps, options: McpOptions): Promise<RunningMcpServer> {
  const { startMcpServerNow } = await import('./mcp-server.js');
  return startMcpServerNow(deps, options);
}
