import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOAuthMetadata, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import type { AnySkill } from '../skills/define-skill.js';
import type { SkillInvocation } from '../skills/invocation.js';
import type { SkillOutcome } from '../skills/outcome.js';
import type { InvocationResult } from '../skills/skill-runner.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state/state-store.js';
import { ClientMetadataDocuments } from './auth/client-metadata-documents.js';
import { DingTalkOAuthProvider, type DingTalkTokens, HOUR_MS, stripSlash } from './auth/dingtalk-provider.js';
import { federationRoutes } from './auth/federation-routes.js';
import { OAuthRecords } from './auth/oauth-records.js';
import { createToolServer, toolOf, toolResultOf } from './tools.js';

export const MCP_PATH = '/mcp';
const CONSENT_PATH = '/oauth/consent';
const CALLBACK_PATH = '/oauth/dingtalk/callback';

const authSchema = z.object({
  loginBase: z.url({ protocol: /^https?$/ }).default('https://login.dingtalk.com'),
  accessTokenTtlSec: z.number().int().min(30).max(86_400).default(600),
  refreshTokenTtlSec: z
    .number()
    .int()
    .min(60)
    .default(30 * 86_400),
  maxRegistrationsPerHour: z.number().int().min(1).max(1_000_000).default(100),
  clientTtlMs: z
    .number()
    .int()
    .positive()
    .default(30 * 86_400_000),
  /** Client ID metadata documents (CIMD): URL client_ids, fetched with an SSRF guard. */
  clientMetadataDocuments: z
    .union([
      z.literal(false),
      z.object({
        allowPrivateNetwork: z.boolean().default(false),
        ca: z.string().optional(),
        cacheTtlMs: z
          .number()
          .int()
          .min(1_000)
          .default(10 * 60_000),
      }),
    ])
    .default({ allowPrivateNetwork: false, cacheTtlMs: 10 * 60_000 }),
});

/** `startApp(app, { mcp })`: serve the app's skills as MCP tools. */
export interface McpOptions {
  /** Port (0 = any free one). */
  port: number;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Public base URL when behind a proxy, e.g. `https://skills.example.com` (default `http://host:port`). */
  publicUrl?: string;
  /** Extra allowed `Origin`s (browsers); the server's own origin is always allowed. */
  allowedOrigins?: string[];
  /** Extra allowed `Host` headers; the public host (and loopback when bound there) always are. */
  allowedHosts?: string[];
  /**
   * The authorization server (default on). `false` serves tools without any user (skills with scopes
   * answer isError): only for conformance runs and trusted local use.
   */
  auth?: false | (Partial<z.input<typeof authSchema>> & { state?: StateStore });
}

/** What the MCP server needs of a running app. */
export interface McpServerDeps {
  appName: string;
  skills: readonly AnySkill[];
  invoke: (inv: SkillInvocation) => Promise<InvocationResult>;
  tokens: DingTalkTokens;
  /** The DingTalk app's AppKey (clientId). */
  appKey: string;
  logger: Logger;
}

export interface RunningMcpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8731/mcp`. */
  readonly url: string;
  readonly port: number;
  /** DingTalk's login must send users back here (register it as the app's redirect URI). */
  readonly callbackUrl: string | undefined;
  close(): Promise<void>;
}

type Challenge = { status: 401 | 403; error: string; description: string; scope: string[] };

/** Starts the MCP server (Streamable HTTP, stateless) with its OAuth authorization server. */
export async function startMcpServer(deps: McpServerDeps, options: McpOptions): Promise<RunningMcpServer> {
  const host = options.host ?? '127.0.0.1';
  const http: HttpServer = createServer();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const base = stripSlash(options.publicUrl ?? `http://${host}:${port}`);
  const mcpUrl = `${base}${MCP_PATH}`;
  const log = deps.logger.child({ component: 'mcp' });
  let callbackUrl: string | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use(hostAndOriginGuard(base, port, host, options, log));

  const bySkill = new Map(deps.skills.map((s) => [s.operationId, s]));
  const tools = deps.skills.map(toolOf);
  const baseline = [...new Set(deps.skills.flatMap((s) => s.scopes))];
  const prmUrl = `${base}/.well-known/oauth-protected-resource${MCP_PATH}`;
  let provider: DingTalkOAuthProvider | undefined;
  let records: OAuthRecords | undefined;
  let ownStore: StateStore | undefined;
  let documents: ClientMetadataDocuments | undefined;

  if (options.auth !== false) {
    const parsed = authSchema.safeParse(options.auth ?? {});
    if (!parsed.success) {
      http.close();
      throw new DingTalkSkillsError(ErrorCode.Config, `invalid mcp.auth: ${parsed.error.message}`);
    }
    const a = parsed.data;
    const shared = options.auth?.state;
    if (!shared) ownStore = new MemoryStateStore({ logger: log });
    records = new OAuthRecords(shared ?? (ownStore as StateStore), deps.appKey);
    callbackUrl = `${base}${CALLBACK_PATH}`;
    const cimd = a.clientMetadataDocuments;
    documents = cimd
      ? new ClientMetadataDocuments({
          records,
          logger: log,
          maxFetchesPerHour: a.maxRegistrationsPerHour,
          cacheTtlMs: cimd.cacheTtlMs,
          allowPrivateNetwork: cimd.allowPrivateNetwork,
          ca: cimd.ca,
        })
      : undefined;
    provider = new DingTalkOAuthProvider({
      documents,
      records,
      tokens: deps.tokens,
      logger: log,
      appName: deps.appName,
      resource: mcpUrl,
      consentAction: `${base}${CONSENT_PATH}`,
      scopesSupported: baseline,
      ...a,
    });
    // Dynamic client registration is bounded per hour across instances (the count is in the shared store),
    // answered 429 before the SDK's handler runs.
    const bound = records;
    app.post('/register', async (_req: Request, res: Response, next: NextFunction) => {
      const count = await bound.countRegistration(HOUR_MS).catch(() => Number.POSITIVE_INFINITY);
      if (count <= a.maxRegistrationsPerHour) return next();
      log.warn({ count }, 'mcp: client registration refused: hourly bound reached');
      res
        .status(429)
        .set('Retry-After', String(Math.ceil((HOUR_MS - (Date.now() % HOUR_MS)) / 1000)))
        .json({
          error: 'too_many_requests',
          error_description: 'too many client registrations; try again later',
        });
    });
    // The SDK's metadata plus the CIMD flag (the SDK does not advertise it).
    const metadata = {
      ...createOAuthMetadata({ provider, issuerUrl: new URL(`${base}/`), scopesSupported: baseline }),
      ...(documents ? { client_id_metadata_document_supported: true } : {}),
    };
    app.get('/.well-known/oauth-authorization-server', (_req: Request, res: Response) => {
      res.set('Access-Control-Allow-Origin', '*').json(metadata);
    });
    app.use(
      mcpAuthRouter({
        provider,
        issuerUrl: new URL(`${base}/`),
        resourceServerUrl: new URL(mcpUrl),
        scopesSupported: baseline,
        resourceName: deps.appName,
        clientRegistrationOptions: { clientSecretExpirySeconds: 0 },
      }),
    );
    app.use(
      federationRoutes({
        records,
        tokens: deps.tokens,
        logger: log,
        appKey: deps.appKey,
        loginBase: stripSlash(a.loginBase),
        callbackUrl,
        consentPath: CONSENT_PATH,
        callbackPath: CALLBACK_PATH,
        secure: base.startsWith('https:'),
      }),
    );
  }

  const challenge = (res: Response, c: Challenge) => {
    const params = [
      `error="${c.error}"`,
      `error_description="${c.description}"`,
      `resource_metadata="${prmUrl}"`,
      ...(c.scope.length ? [`scope="${c.scope.join(' ')}"`] : []),
    ];
    res
      .status(c.status)
      .set('WWW-Authenticate', `Bearer ${params.join(', ')}`)
      .json({ error: c.error, error_description: c.description });
  };

  app.post(MCP_PATH, express.json({ limit: '1mb' }), async (req: Request, res: Response) => {
    let auth: AuthInfo | undefined;
    if (provider) {
      const header = req.headers.authorization ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1]?.trim();
      auth = token ? await provider.verifyAccessToken(token).catch(() => undefined) : undefined;
      if (!auth || stripSlash(auth.resource?.href ?? '') !== mcpUrl) {
        challenge(res, {
          status: 401,
          error: 'invalid_token',
          description: token ? 'invalid, expired or foreign token' : 'authorization required',
          scope: baseline,
        });
        return;
      }
    }
    const unionId = auth?.extra?.unionId as string | undefined;
    const body = req.body as
      | { method?: unknown; params?: { name?: unknown; arguments?: unknown } }
      | undefined;
    const skill =
      body?.method === 'tools/call' && typeof body.params?.name === 'string'
        ? bySkill.get(body.params.name)
        : undefined;
    let answered: { outcome: SkillOutcome; requestId: string } | undefined;
    if (skill) {
      if (auth) {
        const granted = auth.scopes;
        const missing = skill.scopes.filter((s) => !granted.includes(s));
        if (missing.length) {
          await provider?.endAuthorization(String(auth.extra?.family));
          challenge(res, {
            status: 403,
            error: 'insufficient_scope',
            description: `the tool needs ${missing.join(' ')}`,
            scope: [...new Set([...granted, ...skill.scopes])],
          });
          return;
        }
      }
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const requestId = `mcp-${randomUUID()}`;
      const args = body?.params?.arguments;
      const { outcome } = await deps.invoke({
        source: 'mcp',
        requestId,
        abilityKey: skill.operationId,
        method: skill.method,
        trusted: auth !== undefined,
        query: unionId ? { unionId } : {},
        body: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as never) : {},
        headers: {},
        signal: abort.signal,
      });
      if (auth && outcome.kind === 'auth') {
        const c = authChallenge(outcome, skill, auth);
        if (c) {
          log.info(
            { skill: skill.operationId, unionId, status: c.status },
            'mcp: DingTalk refused; challenging',
          );
          await provider?.endAuthorization(String(auth.extra?.family));
          challenge(res, c);
          return;
        }
      }
      answered = { outcome, requestId };
    }
    const server = createToolServer(tools, deps.appName, async () =>
      answered ? toolResultOf(answered.outcome, answered.requestId) : toolResultOf(notRun, ''),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      log.error({ err }, 'mcp: request failed');
      if (!res.headersSent)
        res
          .status(500)
          .json({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null });
    }
  });
  const notAllowed = (_req: Request, res: Response) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed (stateless server)' },
        id: null,
      });
  };
  app.get(MCP_PATH, notAllowed);
  app.delete(MCP_PATH, notAllowed);

  http.on('request', app);
  log.info({ url: mcpUrl, auth: provider !== undefined }, 'mcp: serving');
  return {
    url: mcpUrl,
    port,
    callbackUrl,
    async close() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await documents?.close();
      await ownStore?.close();
    },
  };
}

const notRun: SkillOutcome = { kind: 'error', status: 500, code: 'InternalError', message: 'not run' };

/**
 * The HTTP challenge for a DingTalk refusal, or undefined for an isError result: no or dead DingTalk
 * grant -> 401 (log in again); a scope the user can grant -> 403 insufficient_scope (step-up); a scope
 * the skill does not declare (the app itself lacks it) -> isError, since re-consent would loop.
 */
function authChallenge(outcome: SkillOutcome & { kind: 'auth' }, skill: AnySkill, auth: AuthInfo) {
  if (outcome.code === AuthFailureCode.InvalidAuthentication)
    return {
      status: 401 as const,
      error: 'invalid_token',
      description: 'the DingTalk authorization is gone; sign in again',
      scope: auth.scopes,
    };
  const required = outcome.requiredScopes?.length ? outcome.requiredScopes : skill.scopes;
  if (!required.every((s) => skill.scopes.includes(s))) return undefined;
  return {
    status: 403 as const,
    error: 'insufficient_scope',
    description: 'DingTalk needs your consent for more permissions',
    scope: [...new Set([...auth.scopes, ...required])],
  };
}

/** Host and Origin validation (DNS rebinding): a foreign Host or Origin gets 403. */
function hostAndOriginGuard(base: string, port: number, host: string, o: McpOptions, log: Logger) {
  const publicUrl = new URL(base);
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const hosts = new Set([publicUrl.host, ...(o.allowedHosts ?? [])]);
  const origins = new Set([publicUrl.origin, ...(o.allowedOrigins ?? [])]);
  if (loopback)
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      hosts.add(h);
      origins.add(`http://${h}`);
    }
  return (req: Request, res: Response, next: NextFunction) => {
    const h = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!hosts.has(h) || (origin !== undefined && !origins.has(origin))) {
      log.info({ host: h, origin }, 'mcp: refused a request from a foreign Host or Origin');
      res
        .status(403)
        .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden host or origin' }, id: null });
      return;
    }
    next();
  };
}
