import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ConsentWalkStep, CookieJar, walkConsent } from './consent-walker.js';

/** Where the headless client says the authorization server sends it back (never listened on). */
export const HEADLESS_REDIRECT_URI = 'http://127.0.0.1/dingtalk-skills/mcp-callback';

/**
 * The official SDK's OAuthClientProvider for scripts and tests: keeps the registration, tokens and
 * PKCE verifier in memory (or in a `saved` object the caller persists), and records the authorization
 * URL instead of opening a browser.
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  verifier = '';
  /** The authorization URL the SDK asked to open, until taken. */
  pendingAuthorization: URL | undefined;
  /** Called whenever tokens change (e.g. a rotated refresh token). */
  onTokens: ((tokens: OAuthTokens) => void) | undefined;

  /** A client ID metadata document URL (CIMD): used as the client_id when the server supports it. */
  readonly clientMetadataUrl: string | undefined;

  constructor(
    readonly clientName = 'dingtalk-skills mcp call',
    options: { clientMetadataUrl?: string } = {},
  ) {
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return HEADLESS_REDIRECT_URI;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [HEADLESS_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
    this.onTokens?.(tokens);
  }
  redirectToAuthorization(url: URL) {
    this.pendingAuthorization = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.savedTokens = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
  }
}

export type McpCallStep =
  | { step: 'connect'; url: string }
  /** The MCP server refused the request: 401 (sign in) or 403 (insufficient_scope: step-up). */
  | { step: 'refused'; status: number; wwwAuthenticate: string }
  | { step: 'challenge'; authorizationUrl: string; scopes: string[] }
  | ({ step: 'consent' } & ConsentWalkStep)
  | { step: 'token'; scopes: string[] }
  | { step: 'call'; tool: string; arguments: Record<string, unknown> }
  | { step: 'result'; isError: boolean; structuredContent?: unknown; text: string }
  | { step: 'error'; message: string; unreachable?: true };

export interface McpCallOptions {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8731/mcp`. */
  url: string;
  tool: string;
  arguments?: Record<string, unknown>;
  /** The sandbox user who signs in when consent is needed. */
  userId: string;
  /** Walk both consent pages over HTTP; without it the call stops at the first consent (`awaiting_consent`). */
  autoConsent?: boolean;
  /** Reuse a provider (registration and tokens) across calls. */
  provider?: HeadlessOAuthProvider;
  onStep?: (step: McpCallStep) => void;
  /** Most authorizations in one call (step-up, re-login; default 3). */
  maxAuthorizations?: number;
}

export interface McpCallAnswer {
  status: 'done' | 'awaiting_consent' | 'error';
  steps: McpCallStep[];
  result?: CallToolResult;
  authorizationUrl?: string;
}

/**
 * Calls one tool with the official MCP client (`StreamableHTTPClientTransport` + an
 * `OAuthClientProvider`), authorizing (register, 401, our consent, DingTalk's consent, token) and
 * stepping up on 403 as needed.
 */
export async function mcpCall(o: McpCallOptions): Promise<McpCallAnswer> {
  const steps: McpCallStep[] = [];
  const emit = (s: McpCallStep) => {
    steps.push(s);
    o.onStep?.(s);
  };
  const provider = o.provider ?? new HeadlessOAuthProvider();
  const jar = new CookieJar();
  const args = o.arguments ?? {};
  emit({ step: 'connect', url: o.url });
  const mcpUrl = new URL(o.url).href;
  // Records the MCP endpoint's 401/403 challenges for the transcript (the SDK handles them itself).
  const observed = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : new URL(input).href;
    if ((res.status === 401 || res.status === 403) && url === mcpUrl)
      emit({
        step: 'refused',
        status: res.status,
        wwwAuthenticate: res.headers.get('www-authenticate') ?? '',
      });
    return res;
  };
  for (let attempt = 0; attempt <= (o.maxAuthorizations ?? 3); attempt++) {
    const transport = new StreamableHTTPClientTransport(new URL(o.url), {
      authProvider: provider,
      fetch: observed,
    });
    const client = new Client({ name: provider.clientName, version: '1.0.0' });
    try {
      await client.connect(transport);
      if (attempt === 0 || steps.at(-1)?.step !== 'call')
        emit({ step: 'call', tool: o.tool, arguments: args });
      const result = (await client.callTool({ name: o.tool, arguments: args })) as CallToolResult;
      const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
      emit({
        step: 'result',
        isError: result.isError === true,
        ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
        text,
      });
      await client.close();
      return { status: 'done', steps, result };
    } catch (err) {
      await client.close().catch(() => undefined);
      const pending = provider.pendingAuthorization;
      if (!(err instanceof UnauthorizedError) || !pending) {
        emit({
          step: 'error',
          message: (err as Error).message,
          ...(isConnectionRefused(err) ? { unreachable: true as const } : {}),
        });
        return { status: 'error', steps };
      }
      provider.pendingAuthorization = undefined;
      emit({
        step: 'challenge',
        authorizationUrl: pending.href,
        scopes: (pending.searchParams.get('scope') ?? '').split(' ').filter(Boolean),
      });
      if (!o.autoConsent) return { status: 'awaiting_consent', steps, authorizationUrl: pending.href };
      try {
        const code = await walkConsent(pending.href, {
          userId: o.userId,
          redirectUri: HEADLESS_REDIRECT_URI,
          jar,
          onStep: (s) => emit({ step: 'consent', ...s }),
        });
        await transport.finishAuth(code);
        emit({ step: 'token', scopes: (provider.savedTokens?.scope ?? '').split(' ').filter(Boolean) });
      } catch (walkErr) {
        emit({ step: 'error', message: (walkErr as Error).message });
        return { status: 'error', steps };
      }
    }
  }
  emit({ step: 'error', message: 'still unauthorized after re-authorizing' });
  return { status: 'error', steps };
}

/** True when nothing listens at the URL (fetch's ECONNREFUSED, however the SDK wrapped it). */
function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return /fetch failed|ECONNREFUSED/.test(String((err as Error)?.message));
}
