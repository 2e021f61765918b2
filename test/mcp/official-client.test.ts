/**
 * The official MCP TypeScript client (`Client` + `StreamableHTTPClientTransport` + an
 * `OAuthClientProvider`) against the example CRM app's MCP server, over the wire: registration, the
 * 401, our consent page, the sandbox's DingTalk consent page, the token, a tool call as 张三; step-up on a
 * removed scope (403 insufficient_scope); re-login after a revoke; refresh rotation; and a second
 * instance on the same Redis serving the same token. The only code of ours on the client side is the
 * provider's storage and the consent walker that plays the user's browser.
 */
import {
  HEADLESS_REDIRECT_URI,
  HeadlessOAuthProvider,
  SEED_APP,
  walkConsent,
} from '@dingtalk-skills/sandbox';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exchange, type McpWorld, recordingFetch, startMcpWorld } from './fixture.js';

let world: McpWorld;
beforeAll(async () => {
  world = await startMcpWorld();
}, 60_000);
afterAll(async () => {
  await world?.close();
});

interface Session {
  provider: HeadlessOAuthProvider;
  exchanges: Exchange[];
  /** Authorizations walked (each: our consent + DingTalk's). */
  consents: number;
}

/**
 * Calls a tool the way an MCP host does: connect; on UnauthorizedError the SDK has registered and built
 * the authorization URL; the "browser" (walkConsent) approves both pages as `userId`; finishAuth(code);
 * connect again. Bounded attempts.
 */
async function callTool(
  s: Session,
  url: string,
  name: string,
  args: Record<string, unknown>,
  userId = 'zhangsan',
): Promise<CallToolResult> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      authProvider: s.provider,
      fetch: recordingFetch(s.exchanges),
    });
    const client = new Client({ name: 'official-client-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      await client.close();
      return result;
    } catch (err) {
      await client.close().catch(() => undefined);
      if (!(err instanceof UnauthorizedError)) throw err;
      const pending = s.provider.pendingAuthorization;
      if (!pending) throw err;
      s.provider.pendingAuthorization = undefined;
      const code = await walkConsent(pending.href, { userId, redirectUri: HEADLESS_REDIRECT_URI });
      s.consents++;
      await transport.finishAuth(code);
    }
  }
  throw new Error('still unauthorized after 4 attempts');
}

const newSession = (): Session => ({
  provider: new HeadlessOAuthProvider('Claude Desktop'),
  exchanges: [],
  consents: 0,
});
const statuses = (s: Session, path: string) =>
  s.exchanges.filter((e) => new URL(e.url).pathname === path).map((e) => e.status);
const control = (path: string, body: unknown) =>
  fetch(`${world.sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the official MCP client, end to end', () => {
  const s = newSession();

  it('registers, gets the 401, walks both consent pages, exchanges the code and calls whoami as 张三', async () => {
    const result = await callTool(s, world.a.mcp.url, 'whoami', {});
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ name: '张三', unionId: 'union-zhangsan' });
    expect(s.consents).toBe(1);
    // The wire: a 401 with the challenge, discovery, DCR, the token request, then 200s.
    const first401 = s.exchanges.find((e) => e.status === 401);
    expect(first401?.headers['www-authenticate']).toMatch(
      /^Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp".*scope="[^"]*Contact\.User\.Read/,
    );
    expect(statuses(s, '/.well-known/oauth-protected-resource/mcp')).toContain(200);
    expect(statuses(s, '/.well-known/oauth-authorization-server')).toContain(200);
    expect(statuses(s, '/register')).toEqual([201]);
    expect(statuses(s, '/token')).toEqual([200]);
    expect(s.provider.client?.client_id).toMatch(/^mcp-/);
    // Our token, not DingTalk's: none of the app's DingTalk tokens ever reached the client.
    const dingtalk = await world.dingTalkTokensOf('union-zhangsan');
    expect(dingtalk.length).toBeGreaterThan(0);
    const seen = JSON.stringify(s.exchanges) + JSON.stringify(s.provider.savedTokens);
    for (const t of dingtalk) expect(seen).not.toContain(t);
  });

  it('lists the CRM skills as tools with schemas and annotations', async () => {
    const client = new Client({ name: 'list', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(world.a.mcp.url), { authProvider: s.provider }),
    );
    const { tools } = await client.listTools();
    await client.close();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(
      ['addCustomer', 'createTodo', 'listMyEvents', 'listMyTodos', 'setMyStatus', 'whoami'].sort(),
    );
    expect(byName.get('whoami')?.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('createTodo')?.annotations?.readOnlyHint).toBe(false);
    expect(byName.get('createTodo')?.inputSchema.properties).toHaveProperty('subject');
    for (const t of tools) expect(t.description?.length).toBeGreaterThan(0);
  });

  it('a skill error is an isError result carrying the stable code', async () => {
    const result = await callTool(s, world.a.mcp.url, 'createTodo', { subject: '' });
    expect(result.isError).toBe(true);
    const text = (result.content[0] as { text: string }).text;
    expect(JSON.parse(text)).toMatchObject({ code: expect.any(String) });
    expect(s.consents).toBe(1);
  });

  it('step-up: a scope removed at DingTalk gives 403 insufficient_scope; the client re-authorizes and the call succeeds', async () => {
    const removed = await control('/sandbox/users/zhangsan/remove-scope', {
      clientId: SEED_APP.clientId,
      scope: 'Todo.PersonalTodo.Write',
    });
    expect(removed.status).toBe(200);
    const before = s.exchanges.length;
    const result = await callTool(s, world.a.mcp.url, 'createTodo', { subject: '买牛奶' });
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ subject: '买牛奶' });
    expect(s.consents).toBe(2);
    const forbidden = s.exchanges.slice(before).find((e) => e.status === 403);
    expect(forbidden?.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(forbidden?.headers['www-authenticate']).toMatch(/scope="[^"]*Todo\.PersonalTodo\.Write/);
    const grants = (await (await fetch(`${world.sandbox.url}/sandbox/grants?userId=zhangsan`)).json()) as {
      grants: { scopes: string[] }[];
    };
    expect(grants.grants[0]?.scopes).toContain('Todo.PersonalTodo.Write');
  });

  it('re-login: when the DingTalk tokens are dead (refresh too), the call gets 401, the refresh is refused, and consent runs again', async () => {
    const expired = await control('/sandbox/users/zhangsan/expire-token', {
      clientId: SEED_APP.clientId,
      includeRefresh: true,
    });
    expect(expired.status).toBe(200);
    const before = s.exchanges.length;
    const result = await callTool(s, world.a.mcp.url, 'whoami', {});
    expect(result.structuredContent).toMatchObject({ name: '张三' });
    expect(s.consents).toBe(3);
    const after = s.exchanges.slice(before);
    const challenge = after.find((e) => e.status === 401 && new URL(e.url).pathname === '/mcp');
    expect(challenge?.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    // The SDK tried its refresh token first; our AS refused it (the authorization is dead).
    expect(after.some((e) => new URL(e.url).pathname === '/token' && e.status === 400)).toBe(true);
  });

  it('a revoked DingTalk grant: DingTalk answers 403 for the scope, so the client re-authorizes (step-up) and DingTalk consent runs again', async () => {
    expect((await control('/sandbox/users/zhangsan/revoke', { clientId: SEED_APP.clientId })).status).toBe(
      200,
    );
    const before = s.exchanges.length;
    const result = await callTool(s, world.a.mcp.url, 'whoami', {});
    expect(result.structuredContent).toMatchObject({ name: '张三' });
    expect(s.consents).toBe(4);
    expect(s.exchanges.slice(before).some((e) => e.status === 403)).toBe(true);
  });

  it('refresh rotation: an access token revoked alone is refreshed without consent; the old refresh token is then refused', async () => {
    const tokens = s.provider.savedTokens!;
    const clientId = s.provider.client!.client_id;
    const revoked = await fetch(`${world.a.mcp.url.replace(/\/mcp$/, '')}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: clientId }).toString(),
    });
    expect(revoked.status).toBe(200);
    const result = await callTool(s, world.a.mcp.url, 'whoami', {});
    expect(result.structuredContent).toMatchObject({ name: '张三' });
    expect(s.consents).toBe(4);
    const rotated = s.provider.savedTokens!;
    expect(rotated.refresh_token).toBeDefined();
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    const replay = await fetch(`${world.a.mcp.url.replace(/\/mcp$/, '')}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: clientId,
      }).toString(),
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a second instance on the same Redis serves the same token (no consent, same user)', async () => {
    const before = s.exchanges.length;
    const result = await callTool(s, world.bUrl, 'whoami', {});
    expect(result.structuredContent).toMatchObject({ name: '张三', unionId: 'union-zhangsan' });
    expect(s.consents).toBe(4);
    const after = s.exchanges.slice(before);
    expect(after.every((e) => e.url.startsWith(world.bUrl))).toBe(true);
    expect(after.some((e) => e.status === 401)).toBe(false);
  });

  it('李四 authorizing another client gets his own identity', async () => {
    const lisi = newSession();
    const result = await callTool(lisi, world.b.mcp.url, 'whoami', {}, 'lisi');
    expect(result.structuredContent).toMatchObject({ name: '李四', unionId: 'union-lisi' });
  });
});
