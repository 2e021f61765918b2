/**
 * The MCP tests' world: Debian's redis-server, the sandbox (the only stand-in for DingTalk, its OAuth page
 * plays login.dingtalk.com), and the example CRM app started twice with `startApp(app, { mcp })` on the
 * same Redis, as two instances behind one public URL. Every log line of both instances is kept.
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import {
  createLogger,
  createSharedState,
  type McpOptions,
  type RunningApp,
  type SharedState,
  silentLogger,
  startApp,
} from '@dingtalk-skills/sdk';
import crm from '../../examples/crm/app.js';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';

export interface McpWorld {
  redis: RedisServerHandle;
  sandbox: Sandbox;
  /** Instance A: its MCP URL is the public one (tokens are bound to it). */
  a: RunningApp & { mcp: NonNullable<RunningApp['mcp']> };
  /** Instance B: same Redis, same public URL, its own port. */
  b: RunningApp & { mcp: NonNullable<RunningApp['mcp']> };
  /** B's MCP endpoint as reached directly (its own port). */
  bUrl: string;
  states: SharedState[];
  /** Every log line both instances wrote (NDJSON), for leak checks. */
  logLines: string[];
  /** The DingTalk tokens the app holds for a user (from the token store), for leak checks. */
  dingTalkTokensOf(unionId: string): Promise<string[]>;
  close(): Promise<void>;
}

type McpAuth = Exclude<NonNullable<McpOptions['auth']>, false>;

const TOKEN_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startMcpWorld(
  options: { maxRegistrationsPerHour?: number; auth?: Omit<McpAuth, 'state'> } = {},
): Promise<McpWorld> {
  const redis = await startRedisServer();
  const sandbox = await createSandbox({ port: 0, ephemeral: true, logger: silentLogger() });
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(line) },
    secrets: [SEED_APP.clientSecret],
  });
  const states: SharedState[] = [];
  const start = async (mcp: { port: number; publicUrl?: string }) => {
    const state = await createSharedState({
      url: redis.url,
      logger,
      clientId: SEED_APP.clientId,
      tokenKeys: TOKEN_KEY,
      qps: 10_000,
    });
    states.push(state);
    return startApp(crm, {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger,
      tokenStore: state.tokenStore,
      dedupStore: state.dedupStore,
      refreshLock: state.refreshLock,
      rateLimiter: state.rateLimiter,
      answerStore: state.store,
      mcp: {
        ...mcp,
        auth: {
          loginBase: sandbox.url,
          ...(options.maxRegistrationsPerHour
            ? { maxRegistrationsPerHour: options.maxRegistrationsPerHour }
            : {}),
          ...options.auth,
        },
      },
    }) as Promise<McpWorld['a']>;
  };
  const a = await start({ port: 0 });
  const publicBase = a.mcp.url.replace(/\/mcp$/, '');
  const b = await start({ port: 0, publicUrl: publicBase });
  const added = await fetch(`${sandbox.url}/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: a.mcp.callbackUrl }),
  });
  if (!added.ok) throw new Error(`registering the MCP callback failed: ${added.status}`);
  return {
    redis,
    sandbox,
    a,
    b,
    bUrl: `http://127.0.0.1:${b.mcp.port}/mcp`,
    states,
    logLines,
    async dingTalkTokensOf(unionId) {
      const stored = await states[0]!.tokenStore.get(a.tokens.keyFor(unionId));
      return stored ? [stored.accessToken, ...(stored.refreshToken ? [stored.refreshToken] : [])] : [];
    },
    async close() {
      await b.stop();
      await a.stop();
      for (const s of states) await s.close();
      await sandbox.close();
      await redis.stop();
    },
  };
}

/** A fetch that records every request and answer (status, headers, body) it passes on. */
export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function recordingFetch(log: Exchange[]) {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    const body = await res.clone().text();
    log.push({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url: input instanceof Request ? input.url : new URL(input).href,
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body,
    });
    return res;
  };
}
