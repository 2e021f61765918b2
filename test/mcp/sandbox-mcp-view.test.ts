/**
 * The sandbox's MCP client view over its control API (what the page's MCP tab calls), against the CRM
 * app's MCP server: a call waits for consent, the consent pages are walked (headlessly here; the browser
 * test walks them in Chromium), the sandbox's callback exchanges the code and runs the call again as
 * 张三. Attacks: a forged or replayed callback state, an unknown user, a non-http endpoint.
 */
import { SEED_APP, walkConsent } from '@dingtalk-skills/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpWorld, startMcpWorld } from './fixture.js';

let world: McpWorld;
let sandbox: string;
beforeAll(async () => {
  world = await startMcpWorld();
  sandbox = world.sandbox.url;
}, 60_000);
afterAll(async () => world?.close());

const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sandbox}/sandbox${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-sandbox-client': 'page' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: 'manual',
  });

interface Session {
  status: string;
  authorizationUrl?: string;
  steps: { step: string; [k: string]: unknown }[];
  tools: { name: string }[];
}

describe('the MCP client view (control API)', () => {
  it('refuses to run before it knows an MCP endpoint, and refuses a non-http endpoint', async () => {
    expect(await (await control('GET', '/mcp/endpoint')).json()).toEqual({ url: null });
    const early = await control('POST', '/mcp/sessions/zhangsan/tools', {});
    expect(early.status).toBe(409);
    expect(((await early.json()) as { code: string }).code).toBe('noMcpEndpoint');
    const bad = await control('PUT', '/mcp/endpoint', { url: 'file:///etc/passwd' });
    expect(bad.status).toBe(400);
    const ok = await control('PUT', '/mcp/endpoint', { url: world.a.mcp.url });
    expect(ok.status).toBe(200);
    expect(await (await control('GET', '/mcp/endpoint')).json()).toEqual({ url: world.a.mcp.url });
  });

  it('an unknown user is refused (404), nothing is connected for them', async () => {
    const res = await control('POST', '/mcp/sessions/mallory/call', { tool: 'whoami', arguments: {} });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('unknownUser');
  });

  it('call → 401 → consent → callback → the call runs again as 张三; the callback state is single-use', async () => {
    const first = (await (
      await control('POST', '/mcp/sessions/zhangsan/call', { tool: 'whoami', arguments: {} })
    ).json()) as Session;
    expect(first.status).toBe('awaiting_consent');
    expect(first.steps.map((s) => s.step)).toEqual(['connect', 'refused', 'challenge']);
    expect(first.steps[1]).toMatchObject({ status: 401 });
    const authorization = new URL(first.authorizationUrl ?? '');
    const callback = `${sandbox}/sandbox/mcp/callback`;
    expect(authorization.searchParams.get('redirect_uri')).toBe(callback);
    const state = authorization.searchParams.get('state') ?? '';
    expect(state.length).toBeGreaterThanOrEqual(32);

    const code = await walkConsent(authorization.href, { userId: 'zhangsan', redirectUri: callback });
    // A forged state finds no session: nothing is exchanged (the real code stays usable).
    const forged = await fetch(`${callback}?code=${encodeURIComponent(code)}&state=forged-state`, {
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('unknown or used state');

    const back = await fetch(`${callback}?code=${encodeURIComponent(code)}&state=${state}`, {
      redirect: 'manual',
    });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/?mcp=zhangsan');
    const done = (await (await control('GET', '/mcp/sessions/zhangsan')).json()) as Session;
    expect(done.status).toBe('done');
    const result = done.steps.at(-1) as { step: string; structuredContent?: { name?: string } };
    expect(result.step).toBe('result');
    expect(result.structuredContent?.name).toBe('张三');
    // No DingTalk token reaches the page: the session shows our scopes, never a token.
    expect(JSON.stringify(done)).not.toMatch(/access_token|refresh_token|accessToken/);

    // Replayed: the state was used.
    const replay = await fetch(`${callback}?code=${encodeURIComponent(code)}&state=${state}`, {
      redirect: 'manual',
    });
    expect(replay.status).toBe(400);
  }, 30_000);

  it('another user has their own client: 李四 is asked to authorize, not served with 张三’s token', async () => {
    const li = (await (await control('POST', '/mcp/sessions/lisi/tools', {})).json()) as Session;
    expect(li.status).toBe('awaiting_consent');
    const zhang = (await (await control('POST', '/mcp/sessions/zhangsan/tools', {})).json()) as Session;
    expect(zhang.status).toBe('done');
    expect(zhang.tools.map((t) => t.name)).toContain('whoami');
  });

  it('after the fault panel expires 张三’s DingTalk tokens (access and refresh) the next call is a 401 re-login', async () => {
    const expired = await control('POST', '/users/zhangsan/expire-token', {
      clientId: SEED_APP.clientId,
      includeRefresh: true,
    });
    expect(expired.status).toBe(200);
    const next = (await (
      await control('POST', '/mcp/sessions/zhangsan/call', { tool: 'whoami', arguments: {} })
    ).json()) as Session;
    expect(next.status).toBe('awaiting_consent');
    const refused = next.steps.filter((s) => s.step === 'refused');
    expect(refused.at(-1)).toMatchObject({ status: 401 });
    expect(String(refused.at(-1)?.wwwAuthenticate)).toContain('invalid_token');
  }, 30_000);
});
