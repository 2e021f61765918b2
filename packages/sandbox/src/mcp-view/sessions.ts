import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { BrowserOAuthProvider } from './browser-provider.js';

/** One line of the MCP client view's transcript (what the client sent, what the server answered). */
export type McpViewStep = { at: number } & (
  | { step: 'connect'; url: string; operation: string }
  /** 401 (sign in) or 403 (insufficient_scope: step-up), with the server's `WWW-Authenticate`. */
  | { step: 'refused'; status: number; wwwAuthenticate: string }
  | { step: 'challenge'; authorizationUrl: string; scopes: string[] }
  | { step: 'authorized'; scopes: string[] }
  | { step: 'denied'; error: string; description?: string }
  | { step: 'tools'; names: string[] }
  | { step: 'call'; tool: string; arguments: Record<string, unknown> }
  | { step: 'result'; tool: string; isError: boolean; structuredContent?: unknown; text: string }
  | { step: 'error'; message: string }
);

export type McpViewOperation =
  | { kind: 'list' }
  | { kind: 'call'; tool: string; arguments: Record<string, unknown> };

/** What the page shows of one user's MCP client. */
export interface McpViewSession {
  userId: string;
  status: 'idle' | 'busy' | 'awaiting_consent' | 'done' | 'error';
  /** Where the browser goes to authorize (our consent page, then DingTalk's), while awaiting consent. */
  authorizationUrl?: string;
  tools: Pick<Tool, 'name' | 'title' | 'description' | 'inputSchema' | 'annotations' | '_meta'>[];
  steps: McpViewStep[];
  /** The scopes of the MCP token the client holds (none before the first authorization). */
  tokenScopes: string[];
}

interface Session extends McpViewSession {
  provider: BrowserOAuthProvider;
  pending?: McpViewOperation;
}

/** Steps kept per user (older ones dropped). */
const MAX_STEPS = 200;

export interface McpViewOptions {
  /** The sandbox's `/sandbox/mcp/callback` (the MCP client's redirect URI). */
  callbackUrl: () => string;
  now: () => number;
}

/**
 * The MCP client view's clients, one per seed user, on the sandbox server: the official MCP client
 * (`StreamableHTTPClientTransport` + an `OAuthClientProvider`) with the user's registration and tokens.
 * The browser walks the consent pages (our consent page, then DingTalk's) and comes back to the
 * callback, which exchanges the code and runs the operation that asked for it again.
 */
export class McpViewSessions {
  readonly #sessions = new Map<string, Session>();
  #url: string | undefined;

  constructor(private readonly options: McpViewOptions) {}

  /** The MCP endpoint the view connects to (`dev --mcp-port` sets it). */
  get url(): string | undefined {
    return this.#url;
  }

  setUrl(url: string): void {
    if (this.#url !== url) this.#sessions.clear(); // another server: its registrations and tokens are void
    this.#url = url;
  }

  view(userId: string): McpViewSession {
    const s = this.#sessions.get(userId);
    if (!s) return { userId, status: 'idle', tools: [], steps: [], tokenScopes: [] };
    const { provider: _p, pending: _o, ...shown } = s;
    return { ...shown, steps: [...s.steps] };
  }

  /** Forgets the user's registration and tokens (the next operation authorizes from scratch). */
  forget(userId: string): void {
    this.#sessions.delete(userId);
  }

  async run(userId: string, op: McpViewOperation): Promise<McpViewSession> {
    const s = this.#session(userId);
    if (s.status === 'busy') throw new Error('an MCP request of this user is still running');
    await this.#run(s, op);
    return this.view(userId);
  }

  /** The browser came back from the consent pages: exchange the code, then run the waiting operation again. */
  async finish(q: {
    state: string;
    code?: string;
    error?: string;
    errorDescription?: string;
  }): Promise<McpViewSession | undefined> {
    const s = [...this.#sessions.values()].find(
      (x) => x.provider.pendingState !== undefined && x.provider.pendingState === q.state,
    );
    if (!s) return undefined;
    s.provider.pendingState = undefined; // single use
    const op = s.pending;
    s.pending = undefined;
    s.authorizationUrl = undefined;
    if (!q.code) {
      this.#emit(s, {
        step: 'denied',
        error: q.error ?? 'no code',
        ...(q.errorDescription ? { description: q.errorDescription } : {}),
      });
      s.status = 'error';
      return this.view(s.userId);
    }
    const url = this.#url;
    if (!url) throw new Error('no MCP endpoint');
    try {
      await new StreamableHTTPClientTransport(new URL(url), { authProvider: s.provider }).finishAuth(q.code);
      s.tokenScopes = scopesOf(s.provider.savedTokens?.scope);
      this.#emit(s, { step: 'authorized', scopes: s.tokenScopes });
    } catch (err) {
      this.#emit(s, { step: 'error', message: `token exchange failed: ${(err as Error).message}` });
      s.status = 'error';
      return this.view(s.userId);
    }
    if (op) await this.#run(s, op);
    else s.status = 'done';
    return this.view(s.userId);
  }

  #session(userId: string): Session {
    let s = this.#sessions.get(userId);
    if (!s) {
      s = {
        userId,
        status: 'idle',
        tools: [],
        steps: [],
        tokenScopes: [],
        provider: new BrowserOAuthProvider(this.options.callbackUrl()),
      };
      this.#sessions.set(userId, s);
    }
    return s;
  }

  #emit(
    s: Session,
    step: McpViewStep extends infer T ? (T extends { at: number } ? Omit<T, 'at'> : never) : never,
  ) {
    s.steps.push({ at: this.options.now(), ...step } as McpViewStep);
    if (s.steps.length > MAX_STEPS) s.steps.splice(0, s.steps.length - MAX_STEPS);
  }

  async #run(s: Session, op: McpViewOperation): Promise<void> {
    const url = this.#url;
    if (!url) throw new Error('no MCP endpoint: start dev with --mcp-port');
    s.status = 'busy';
    s.authorizationUrl = undefined;
    s.pending = undefined;
    this.#emit(s, { step: 'connect', url, operation: op.kind === 'list' ? 'tools/list' : 'tools/call' });
    const mcpUrl = new URL(url).href;
    // Records the MCP endpoint's 401/403 challenges (the SDK answers them itself).
    const observed = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const res = await fetch(input, init);
      const at = input instanceof Request ? input.url : new URL(input).href;
      if ((res.status === 401 || res.status === 403) && at === mcpUrl)
        this.#emit(s, {
          step: 'refused',
          status: res.status,
          wwwAuthenticate: res.headers.get('www-authenticate') ?? '',
        });
      return res;
    };
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      authProvider: s.provider,
      fetch: observed,
    });
    const client = new Client({ name: s.provider.clientName, version: '1.0.0' });
    try {
      await client.connect(transport);
      if (op.kind === 'list') {
        const listed = await client.listTools();
        s.tools = listed.tools.map((t) => ({
          name: t.name,
          ...(t.title ? { title: t.title } : {}),
          ...(t.description ? { description: t.description } : {}),
          inputSchema: t.inputSchema,
          ...(t.annotations ? { annotations: t.annotations } : {}),
          ...(t._meta ? { _meta: t._meta } : {}),
        }));
        this.#emit(s, { step: 'tools', names: s.tools.map((t) => t.name) });
      } else {
        this.#emit(s, { step: 'call', tool: op.tool, arguments: op.arguments });
        const result = (await client.callTool({ name: op.tool, arguments: op.arguments })) as CallToolResult;
        this.#emit(s, {
          step: 'result',
          tool: op.tool,
          isError: result.isError === true,
          ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
          text: result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'),
        });
      }
      s.tokenScopes = scopesOf(s.provider.savedTokens?.scope);
      s.status = 'done';
    } catch (err) {
      const pending = s.provider.pendingAuthorization;
      s.provider.pendingAuthorization = undefined;
      if (err instanceof UnauthorizedError && pending) {
        s.pending = op;
        s.authorizationUrl = pending.href;
        s.status = 'awaiting_consent';
        this.#emit(s, {
          step: 'challenge',
          authorizationUrl: pending.href,
          scopes: scopesOf(pending.searchParams.get('scope') ?? undefined),
        });
      } else {
        s.status = 'error';
        this.#emit(s, { step: 'error', message: (err as Error).message });
      }
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}

function scopesOf(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}
