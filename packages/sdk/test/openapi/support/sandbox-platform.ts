import type { Socket } from 'node:net';
import {
  createPlatform,
  type Platform,
  registerPlatform,
  SandboxClock,
  SEED_APP,
} from '@dingtalk-skills/sandbox';
import { USER_AGENT } from '@dingtalk-skills/sdk';
import Fastify, { type FastifyInstance } from 'fastify';

/** Counts of what the server saw, by `METHOD /path` (no query). */
export interface ServerCounts {
  /** TCP connections accepted in total. */
  connections: number;
  /** Distinct TCP connections that carried at least one request from the OpenAPI client (by User-Agent). */
  clientConnections: number;
  requests: Map<string, number>;
}

export interface SandboxPlatformHarness {
  url: string;
  platform: Platform;
  app: FastifyInstance;
  counts: ServerCounts;
  /** Requests the server answered for `METHOD /path` (query ignored). */
  requests(api: string): number;
  resetCounts(): void;
  /** Calls the sandbox control API over HTTP (separate connection pool from the client under test). */
  control<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  /** Headless consent for the seed app: returns the single-use authorization code. */
  authorize(userId: string, scopes: string[]): Promise<string>;
  tokenStats(
    userId?: string,
  ): Promise<{ authorizationCode: number; refreshToken: number; refreshTokenFailed: number }>;
  close(): Promise<void>;
}

/** Every scope the sandbox knows, as a full consent grants it. */
export const ALL_SCOPES = [
  'openid',
  'corpid',
  'Contact.User.Read',
  'Contact.User.mobile',
  'Todo.PersonalTodo.Write',
  'Todo.Todo.Read',
  'Calendar.Event.Write',
  'Calendar.Event.Read',
  'Contact.User.Ownness.Write',
];

/**
 * The real sandbox platform (OpenAPI emulation + control API) on a Fastify server at
 * 127.0.0.1:<OS-chosen port>, with counters of connections and requests for assertions.
 */
export async function startSandboxPlatform(): Promise<SandboxPlatformHarness> {
  const platform = createPlatform({ ephemeral: true, clock: new SandboxClock() });
  const app = Fastify({ logger: false });
  const counts: ServerCounts = { connections: 0, clientConnections: 0, requests: new Map() };
  const clientSockets = new WeakSet<Socket>();
  app.server.on('connection', () => {
    counts.connections += 1;
  });
  app.addHook('onRequest', async (request) => {
    const api = `${request.method} ${request.url.split('?')[0]}`;
    counts.requests.set(api, (counts.requests.get(api) ?? 0) + 1);
    const socket = request.raw.socket;
    if (request.headers['user-agent'] === USER_AGENT && !clientSockets.has(socket)) {
      clientSockets.add(socket);
      counts.clientConnections += 1;
    }
  });
  await registerPlatform(app, platform);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  const control = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    // x-sandbox-client: the sandbox's admission asks for it on a body-less control API call.
    const init: RequestInit = { method, headers: { 'x-sandbox-client': 'test' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'x-sandbox-client': 'test', 'content-type': 'application/json' };
    }
    const res = await fetch(url + path, init);
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  return {
    url,
    platform,
    app,
    counts,
    requests: (api) => counts.requests.get(api) ?? 0,
    resetCounts: () => {
      counts.requests.clear();
    },
    control,
    authorize: async (userId, scopes) =>
      (
        await control<{ code: string }>('POST', '/sandbox/oauth/authorize', {
          userId,
          clientId: SEED_APP.clientId,
          scopes,
        })
      ).code,
    tokenStats: async (userId) => {
      const q = new URLSearchParams({ clientId: SEED_APP.clientId });
      if (userId) q.set('userId', userId);
      const stats = await control<{
        totals: { authorizationCode: number; refreshToken: number; refreshTokenFailed: number };
      }>('GET', `/sandbox/stats/tokens?${q}`);
      return stats.totals;
    },
    close: async () => {
      await app.close();
      platform.close();
    },
  };
}
