/** The `--mcp-port` / `--mcp-host` / `--mcp-public-url` flags of `dev` and `start`. */
export interface McpFlags {
  mcpPort?: number;
  mcpHost?: string;
  mcpPublicUrl?: string;
}

/** The MCP server's default port when `mcp call` is given no `--url` and DINGTALK_MCP_PORT is unset. */
export const DEFAULT_MCP_PORT = 8731;

/** One line of the ready banner for a running MCP server. */
export function mcpLine(url: string, callbackUrl: string | undefined): string {
  return `  mcp              ${url}  (Streamable HTTP + OAuth 2.1${callbackUrl ? `; DingTalk sends sign-ins back to ${callbackUrl}` : ', auth off'})\n`;
}
