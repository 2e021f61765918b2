/**
 * Attacks on the MCP server's authorization server, over the wire against the example CRM app (two
 * instances on one Redis, the sandbox playing DingTalk): PKCE downgrade, redirect URI games, state
 * replay, tokens for another resource, DingTalk tokens leaking into MCP answers or logs, consent finished
 * by another account, and a registration flood.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { CookieJar, HEADLESS_REDIRECT_URI, mcpCall } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { startMcpServer } from '@dingtalk-skills/sdk/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpWorld, startMcpWorld } from './fixture.js';

const MAX_REGISTRATIONS = 16;
let world: McpWorld;
let base: string;
let spareClient: string;
beforeAll(async () => {
  world = await startMcpWorld({ maxRegistrationsPerHour: MAX_REGISTRATIONS });
  base = world.a.mcp.url.replace(/\/mcp$/, '');
  spareClient = await register();
}, 60_000);
afterAll(async () => {
  await world?.close();
});

const REDIRECT = 'http://127.0.0.1:5555/callback';
const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function register(redirectUris = [REDIRECT], at = base): Promise<string> {
  const res = await fetch(`${at}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'attack test',
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  const url = new URL(`${base}/authorize`);
  const params = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'Contact.User.Read',
    state: 'client-state-1',
    resource: world.a.mcp.url,
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

const attr = (html: string, re: RegExp) => re.exec(html)?.[1]?.replace(/&amp;/g, '&');

/** Our consent page approved in `jar`'s browser: resolves the DingTalk login URL (with our state). */
async function approveOurConsent(jar: CookieJar, url: string): Promise<string> {
  const page = await fetch(url, { redirect: 'manual' });
  expect(page.status).toBe(200);
  jar.store(url, page);
  const html = await page.text();
  const nonce = attr(html, /name="nonce" value="([^"]*)"/)!;
  const action = attr(html, /<form method="post" action="([^"]*)"/)!;
  const posted = form({ nonce, decision: 'approve' });
  const res = await fetch(action, {
    ...posted,
    headers: { ...posted.headers, cookie: jar.header(action) ?? '' },
    redirect: 'manual',
  });
  jar.store(action, res);
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

/** The sandbox's DingTalk consent page approved as `userId`: resolves our callback URL (authCode + state). */
async function approveDingTalk(loginUrl: string, userId: string): Promise<string> {
  const page = await fetch(loginUrl);
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const nonce = attr(html, /name="nonce" value="([^"]*)"/)!;
  const action = new URL(attr(html, /<form method="post" action="([^"]*)"/)!, loginUrl).href;
  const res = await fetch(action, { ...form({ nonce, decision: 'approve', userId }), redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

async function getWith(jar: CookieJar, url: string): Promise<Response> {
  const cookie = jar.header(url);
  return fetch(url, { redirect: 'manual', ...(cookie ? { headers: { cookie } } : {}) });
}

async function exchange(
  clientId: string,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) {
  const res = await fetch(`${base}/token`, {
    ...form({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      resource: world.a.mcp.url,
      ...extra,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** The whole flow by hand as `userId`: resolves our authorization code. */
async function authorizeAs(clientId: string, challenge: string, userId = 'zhangsan'): Promise<string> {
  const jar = new CookieJar();
  const login = await approveOurConsent(jar, authorizeUrl(clientId, challenge));
  const callback = await approveDingTalk(login, userId);
  const back = await getWith(jar, callback);
  expect(back.status).toBe(302);
  const to = new URL(back.headers.get('location')!);
  expect(to.searchParams.get('state')).toBe('client-state-1');
  return to.searchParams.get('code')!;
}

describe('PKCE', () => {
  it('an authorization without S256 (plain, or no challenge) is refused before any consent page', async () => {
    const clientId = await register();
    const downgrades: Record<string, string>[] = [{ code_challenge_method: 'plain' }, { code_challenge: '' }];
    for (const extra of downgrades) {
      const url = new URL(authorizeUrl(clientId, 'x'.repeat(43), extra));
      if (extra.code_challenge === '') url.searchParams.delete('code_challenge');
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location')!);
      expect(`${to.origin}${to.pathname}`).toBe(REDIRECT);
      expect(to.searchParams.get('error')).toBe('invalid_request');
    }
  });

  it('the code is refused with a wrong verifier, and cannot be tried twice', async () => {
    const clientId = await register();
    const { verifier, challenge } = pkce();
    const code = await authorizeAs(clientId, challenge);
    const wrong = await exchange(clientId, code, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await exchange(clientId, code, verifier);
    expect(right.status).toBe(200);
    expect((await exchange(clientId, code, verifier)).body.error).toBe('invalid_grant');
  });
});

describe('redirect URIs', () => {
  it('must match exactly: another loopback port, path or query gets an error page, never a redirect', async () => {
    const clientId = await register();
    for (const redirect of [
      'http://127.0.0.1:6666/callback',
      'http://127.0.0.1:5555/callback/x',
      'http://127.0.0.1:5555/callback?next=evil',
      'http://localhost:5555/callback',
    ]) {
      const res = await fetch(authorizeUrl(clientId, pkce().challenge, { redirect_uri: redirect }), {
        redirect: 'manual',
      });
      expect(res.status, redirect).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('the token request must name the same redirect URI', async () => {
    const clientId = await register([REDIRECT, 'http://127.0.0.1:5555/other']);
    const { verifier, challenge } = pkce();
    const code = await authorizeAs(clientId, challenge);
    const res = await exchange(clientId, code, verifier, { redirect_uri: 'http://127.0.0.1:5555/other' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('scopes the skills do not declare are refused (no open-ended DingTalk consent)', async () => {
    const clientId = await register();
    const res = await fetch(
      authorizeUrl(clientId, pkce().challenge, { scope: 'Contact.User.Read Org.Everything' }),
      {
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('state toward DingTalk', () => {
  it('is single-use: replaying the DingTalk callback is refused', async () => {
    const clientId = await register();
    const jar = new CookieJar();
    const login = await approveOurConsent(jar, authorizeUrl(clientId, pkce().challenge));
    const state = new URL(login).searchParams.get('state');
    expect(state).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(state).not.toBe('client-state-1');
    const callback = await approveDingTalk(login, 'zhangsan');
    expect((await getWith(jar, callback)).status).toBe(302);
    const replay = await getWith(jar, callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used state');
    expect(world.logLines.some((l) => l.includes('security.state_refused'))).toBe(true);
  });

  it('a made-up state is refused', async () => {
    const res = await fetch(`${base}/oauth/dingtalk/callback?authCode=abc&state=made-up`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
  });
});

describe('consent by another account', () => {
  it('a DingTalk sign-in finished in a browser that did not give our consent is refused', async () => {
    const clientId = await register();
    const attacker = new CookieJar();
    const login = await approveOurConsent(attacker, authorizeUrl(clientId, pkce().challenge));
    // The attacker sends the DingTalk login link to 李四, who signs in in his own browser.
    const callback = await approveDingTalk(login, 'lisi');
    const victim = await getWith(new CookieJar(), callback);
    expect(victim.status).toBe(400);
    expect(victim.headers.get('location')).toBeNull();
    expect(await victim.text()).toContain('started in another browser');
    expect(world.logLines.some((l) => l.includes('security.consent_browser_mismatch'))).toBe(true);
    // The state died with the attempt: the attacker cannot finish it either.
    expect((await getWith(attacker, callback)).status).toBe(400);
  });

  it('consent CSRF: a consent form posted from a browser that was not shown the page is refused', async () => {
    const clientId = await register();
    // The attacker loads our consent page for their own client and keeps the nonce...
    const page = await fetch(authorizeUrl(clientId, pkce().challenge));
    const html = await page.text();
    const nonce = attr(html, /name="nonce" value="([^"]*)"/)!;
    const action = attr(html, /<form method="post" action="([^"]*)"/)!;
    // ...and makes the victim's browser submit it (a cross-site form carries no SameSite=Lax cookie).
    const res = await fetch(action, { ...form({ nonce, decision: 'approve' }), redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(world.logLines.some((l) => l.includes('security.consent_csrf'))).toBe(true);
  });

  it('our consent page is not frameable and not cached', async () => {
    const clientId = await register();
    const res = await fetch(authorizeUrl(clientId, pkce().challenge));
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toContain('no-store');
    // Browsers apply form-action to the redirects after the post: DingTalk's login (approve) and the
    // client's redirect URI (deny) are allowed, no other origin.
    const formAction = /form-action ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    expect(formAction?.split(' ').sort()).toEqual(
      ["'self'", new URL(world.sandbox.url).origin, new URL(REDIRECT).origin].sort(),
    );
  });
});

describe('audience (RFC 8707)', () => {
  it('an authorization or a token request for another resource is refused', async () => {
    const clientId = await register();
    const other = await fetch(
      authorizeUrl(clientId, pkce().challenge, { resource: 'https://evil.example/mcp' }),
      {
        redirect: 'manual',
      },
    );
    expect(new URL(other.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
    const { verifier, challenge } = pkce();
    const code = await authorizeAs(clientId, challenge);
    const res = await exchange(clientId, code, verifier, { resource: 'https://evil.example/mcp' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('a token issued for this server is refused by another MCP server on the same Redis (another resource)', async () => {
    const clientId = await register();
    const { verifier, challenge } = pkce();
    const token = (await exchange(clientId, await authorizeAs(clientId, challenge), verifier)).body
      .access_token!;
    const call = (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    expect((await call(world.a.mcp.url)).status).toBe(200);
    const elsewhere = await startMcpServer(
      {
        appName: 'another resource',
        skills: world.a.skills.skills,
        invoke: (inv) => world.a.skills.invoke(inv),
        tokens: world.a.tokens,
        appKey: 'dingsandboxapp001',
        logger: silentLogger(),
      },
      { port: 0, auth: { state: world.states[0]!.store, loginBase: world.sandbox.url } },
    );
    try {
      const res = await call(elsewhere.url);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      await elsewhere.close();
    }
    // And a token in the query string is never read.
    const q = await fetch(`${world.a.mcp.url}?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(q.status).toBe(401);
  });
});

describe('scopes of our token', () => {
  it('a tool whose DingTalk scope the token lacks is 403 insufficient_scope naming granted + required, and that authorization ends', async () => {
    const clientId = await register();
    const { verifier, challenge } = pkce();
    const tokens = (await exchange(clientId, await authorizeAs(clientId, challenge), verifier)).body;
    const call = (name: string) =>
      fetch(world.a.mcp.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name, arguments: { subject: 'x' } },
        }),
      });
    const res = await call('createTodo');
    expect(res.status).toBe(403);
    const header = res.headers.get('www-authenticate') ?? '';
    expect(header).toContain('error="insufficient_scope"');
    expect(header).toMatch(/scope="Contact\.User\.Read Todo\.PersonalTodo\.Write"/);
    expect(header).toContain('resource_metadata="');
    // The step-up must go through consent: neither the old access token nor its refresh token works now.
    expect((await call('whoami')).status).toBe(401);
    const refreshed = await fetch(`${base}/token`, {
      ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
    });
    expect(refreshed.status).toBe(400);
  });
});

describe('no token passthrough', () => {
  it("DingTalk's tokens appear in no MCP answer, no log line, and our own tokens are stored only hashed", async () => {
    const seen: string[] = [];
    const answer = await mcpCall({
      url: world.a.mcp.url,
      tool: 'whoami',
      userId: 'zhangsan',
      autoConsent: true,
      onStep: (s) => seen.push(JSON.stringify(s)),
    });
    expect(answer.status).toBe('done');
    const dingtalk = await world.dingTalkTokensOf('union-zhangsan');
    expect(dingtalk.length).toBe(2);
    const everything = [...seen, JSON.stringify(answer), ...world.logLines].join('\n');
    for (const t of dingtalk) expect(everything).not.toContain(t);
    // Redis holds the MCP records under hashes: our access token in plain text is nowhere.
    const redisDump = execFileSync('redis-cli', [
      '-p',
      String(world.redis.port),
      '--scan',
      '--pattern',
      '*mcp:*',
    ])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((k) => `${k} ${execFileSync('redis-cli', ['-p', String(world.redis.port), 'get', k]).toString()}`)
      .join('\n');
    expect(redisDump).toContain(':at:');
    const step = answer.steps.find((s) => s.step === 'token');
    expect(step).toBeDefined();
    for (const t of dingtalk) expect(redisDump).not.toContain(t);
    for (const line of world.logLines)
      expect(line).not.toMatch(/"(access_token|refresh_token|authCode)":"[^*]/);
  });
});

describe('dynamic client registration', () => {
  it('is bounded per hour across instances: past the bound both answer 429', async () => {
    const codes: number[] = [];
    for (let i = 0; i < MAX_REGISTRATIONS + 3; i++) {
      const at = i % 2 === 0 ? base : world.bUrl.replace(/\/mcp$/, '');
      const res = await fetch(`${at}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: `flood ${i}`,
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'none',
        }),
      });
      codes.push(res.status);
    }
    expect(codes).toContain(429);
    expect(codes.filter((c) => c === 201).length).toBeLessThanOrEqual(MAX_REGISTRATIONS);
    expect(codes.slice(-2)).toEqual([429, 429]);
    // A registration body past the size bound is refused too: a 4xx, or the connection cut while the
    // client is still sending (the server answers before reading it all); the server keeps serving.
    const big = await fetch(`${base}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'x'.repeat(200_000), redirect_uris: [REDIRECT] }),
    }).catch(() => undefined);
    if (big) {
      expect(big.status).toBeGreaterThanOrEqual(400);
      expect(big.status).toBeLessThan(500);
    }
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`)).status).toBe(200);
  });
});

it('the headless redirect URI never listens (a code sent there goes nowhere)', () => {
  expect(new URL(HEADLESS_REDIRECT_URI).port).toBe('');
});

describe('bad input', () => {
  it('JSON that does not parse or a body over the limit gets a JSON-RPC error and a log line, never a stack trace', async () => {
    const post = (body: string) =>
      fetch(world.a.mcp.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body,
      });
    // The body is read before the token is checked, so no token is needed to get these answers.
    for (const [body, status, code] of [
      ['{"jsonrpc":', 400, -32700],
      [JSON.stringify({ x: 'a'.repeat(1_100_000) }), 413, -32600],
    ] as const) {
      const res = await post(body);
      const text = await res.text();
      expect(res.status).toBe(status);
      expect(text).not.toMatch(/\bat .*\.js:\d+|SyntaxError|node_modules/);
      expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code }, id: null });
    }
    expect(world.logLines.some((l) => l.includes('mcp: bad request refused'))).toBe(true);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('state store outage (runs last: it freezes Redis)', () => {
  it('a token check that cannot reach Redis answers 503, not 401 (clients retry instead of re-authorizing)', async () => {
    const clientId = spareClient; // registered before the flood test used up the hourly bound
    const { verifier, challenge } = pkce();
    const token = (await exchange(clientId, await authorizeAs(clientId, challenge), verifier)).body
      .access_token!;
    process.kill(world.redis.pid, 'SIGSTOP');
    try {
      const res = await fetch(world.a.mcp.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      process.kill(world.redis.pid, 'SIGCONT');
    }
  }, 30_000);
});
