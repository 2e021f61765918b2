import Fastify, { type FastifyInstance } from 'fastify';
import { SandboxClock } from '../../src/clock.js';
import { createPlatform, type Platform, type PlatformOptions } from '../../src/platform/index.js';
import { registerPlatform } from '../../src/platform-routes.js';
import { SEED_APP } from '../../src/seed.js';

/** A platform served over real HTTP on 127.0.0.1 with an OS-chosen port. */
export interface PlatformHarness {
  base: string;
  platform: Platform;
  clock: SandboxClock;
  app: FastifyInstance;
  close(): Promise<void>;
  /** fetch + JSON body. */
  call(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<JsonResponse>;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  body: any;
  text: string;
}

export const REDIRECT = SEED_APP.redirectUris[0];

export async function startPlatform(
  options: Partial<PlatformOptions> = {},
  /** Adds more routes before the server listens (e.g. an app's OAuth callback). */
  setup?: (app: FastifyInstance) => void,
): Promise<PlatformHarness> {
  const clock = options.clock ?? new SandboxClock();
  const platform = createPlatform({ ephemeral: options.dbPath === undefined, ...options, clock });
  const app = Fastify({ logger: false });
  await registerPlatform(app, platform);
  setup?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  const base = `http://127.0.0.1:${address.port}`;
  const call: PlatformHarness['call'] = async (path, init = {}) => {
    const { json, token, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined) headers.set('content-type', 'application/json');
    if (token !== undefined) headers.set('x-acs-dingtalk-access-token', token);
    const res = await fetch(base + path, {
      ...rest,
      headers,
      redirect: 'manual',
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
  };
  return {
    base,
    platform,
    clock,
    app,
    call,
    async close() {
      await app.close();
      platform.close();
    },
  };
}

/** Consents headlessly and exchanges the code: a fresh user token pair for the seed app. */
export async function userTokens(
  h: PlatformHarness,
  userId: string,
  scopes: string[],
): Promise<{ accessToken: string; refreshToken: string; code: string }> {
  const auth = await h.call('/sandbox/oauth/authorize', {
    method: 'POST',
    json: { userId, clientId: SEED_APP.clientId, scopes },
  });
  if (auth.status !== 200) throw new Error(`authorize failed: ${auth.text}`);
  const ex = await h.call('/v1.0/oauth2/userAccessToken', {
    method: 'POST',
    json: {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      code: auth.body.code,
      grantType: 'authorization_code',
    },
  });
  if (ex.status !== 200) throw new Error(`exchange failed: ${ex.text}`);
  return { accessToken: ex.body.accessToken, refreshToken: ex.body.refreshToken, code: auth.body.code };
}
