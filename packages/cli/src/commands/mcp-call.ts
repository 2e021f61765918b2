import { type McpCallStep, mcpCall } from '@dingtalk-skills/sandbox';
import { readEnv } from '../env.js';
import { ExitCode, SandboxUnreachableError, UsageError } from '../exit-codes.js';
import { DEFAULT_MCP_PORT } from '../mcp.js';

export interface McpCallCommandOptions {
  user: string;
  data: string;
  autoConsent?: boolean;
  json?: boolean;
  url?: string;
}

function describeStep(s: McpCallStep): string {
  switch (s.step) {
    case 'connect':
      return `→ connect ${s.url} (official MCP client, Streamable HTTP)`;
    case 'refused':
      return `← ${s.status} ${s.status === 403 ? '(step-up)' : '(sign in)'} WWW-Authenticate: ${s.wwwAuthenticate}`;
    case 'challenge':
      return `🔐 authorize (OAuth 2.1 + PKCE) scopes ${s.scopes.join(' ') || '(none)'}\n   at ${s.authorizationUrl}`;
    case 'consent':
      if (s.kind === 'app_consent')
        return `✔ our consent page (授权 MCP 客户端): ${s.clientName ?? ''} approved ${JSON.stringify(s.scopes ?? [])}`;
      if (s.kind === 'dingtalk_consent')
        return `✔ DingTalk consent page (钉钉授权页, sandbox): approved ${JSON.stringify(s.scopes ?? [])}`;
      return '↩ DingTalk sent the sign-in back to the app; MCP code issued';
    case 'token':
      return `🔑 MCP access token (scopes ${s.scopes.join(' ') || '(none)'}); the DingTalk token stays on the server`;
    case 'call':
      return `→ tools/call ${s.tool} ${JSON.stringify(s.arguments)}`;
    case 'result':
      return s.isError ? `✖ isError ${s.text}` : `✅ result ${JSON.stringify(s.structuredContent ?? s.text)}`;
    case 'error':
      return `✖ error: ${s.message}`;
  }
}

/**
 * `dingtalk-skills mcp call <tool> --user <id> --data <json>`: calls one tool of a running MCP server with
 * the official MCP client, walking both consent pages as that sandbox user when --auto-consent is
 * given. Exit code 0 on a result, 1 on an isError result or an error, 2 for bad --data, 3 when consent
 * is needed (no --auto-consent), 5 when nothing answers at the URL.
 */
export async function mcpCallCommand(tool: string, options: McpCallCommandOptions): Promise<void> {
  let args: unknown;
  try {
    args = JSON.parse(options.data);
  } catch (err) {
    throw new UsageError(`--data must be JSON: ${(err as Error).message}`);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    throw new UsageError('--data must be a JSON object');
  const url = options.url ?? `http://127.0.0.1:${readEnv().DINGTALK_MCP_PORT ?? DEFAULT_MCP_PORT}/mcp`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url must be an absolute URL: ${url}`);
  }
  const answer = await mcpCall({
    url,
    tool,
    arguments: args as Record<string, unknown>,
    userId: options.user,
    autoConsent: options.autoConsent === true,
  });
  const last = answer.steps.at(-1);
  if (last?.step === 'error' && last.unreachable)
    throw new SandboxUnreachableError(
      `no MCP server answers at ${url} (start one with: npx dingtalk-skills dev --mcp-port ${DEFAULT_MCP_PORT}): ${last.message}`,
    );
  if (options.json) process.stdout.write(`${JSON.stringify(answer.steps)}\n`);
  else {
    for (const step of answer.steps) process.stdout.write(`${describeStep(step)}\n`);
    if (answer.status === 'awaiting_consent')
      process.stdout.write('(consent needed: pass --auto-consent to walk both consent pages as --user)\n');
  }
  process.exitCode =
    answer.status === 'awaiting_consent'
      ? ExitCode.AwaitingConsent
      : last?.step === 'result' && !last.isError
        ? ExitCode.Ok
        : ExitCode.Failed;
}
