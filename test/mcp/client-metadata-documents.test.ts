/**
 * Client ID metadata documents (CIMD, MCP 2025-11-25): the official MCP client uses an https URL as its
 * client_id instead of registering; our authorization server fetches the document (a real https server
 * on loopback with a CA made here), checks it, and shows its client_name on the consent page. Bad
 * documents and private addresses (SSRF) are refused.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  createSelfSignedTls,
  HEADLESS_REDIRECT_URI,
  HeadlessOAuthProvider,
  mcpCall,
} from '@dingtalk-skills/sandbox';
import { silentLogger, startMcpServer } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpWorld, startMcpWorld } from './fixture.js';

const tls = createSelfSignedTls(['127.0.0.1']);
let docs: Server;
let docsBase: string;
const served: string[] = [];
let world: McpWorld;

function clientDoc(id: string, extra: Record<string, unknown> = {}) {
  return {
    client_id: id,
    client_name: 'CIMD Agent 桌面助手',
    redirect_uris: [HEADLESS_REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...extra,
  };
}

beforeAll(async () => {
  docs = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const path = req.url ?? '/';
    served.push(path);
    const self = `${docsBase}${path}`;
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/agent.json' || path === '/private.json') return json(clientDoc(self));
    if (path === '/impostor.json') return json(clientDoc(`${docsBase}/agent.json`));
    if (path === '/huge.json')
      return json(clientDoc(self, { client_uri: `https://x.example/${'a'.repeat(20_000)}` }));
    if (path === '/moved.json') return res.writeHead(302, { location: '/agent.json' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  docsBase = `https://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  world = await startMcpWorld({
    auth: { clientMetadataDocuments: { allowPrivateNetwork: true, ca: tls.ca } },
  });
}, 60_000);
afterAll(async () => {
  await world?.close();
  await new Promise<void>((resolve) => docs?.close(() => resolve()));
});

const authorize = (clientId: string, at = world.a.mcp.url.replace(/\/mcp$/, '')) => {
  const url = new URL(`${at}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: HEADLESS_REDIRECT_URI,
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
    scope: 'Contact.User.Read',
  }))
    url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual' });
};

describe('client ID metadata documents', () => {
  it('the AS metadata says it supports them', async () => {
    const res = await fetch(
      `${world.a.mcp.url.replace(/\/mcp$/, '')}/.well-known/oauth-authorization-server`,
    );
    expect(await res.json()).toMatchObject({
      client_id_metadata_document_supported: true,
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('the official client uses its document URL as client_id: no registration, its name on our consent page, a call as 张三', async () => {
    const clientMetadataUrl = `${docsBase}/agent.json`;
    const provider = new HeadlessOAuthProvider('ignored', { clientMetadataUrl });
    const answer = await mcpCall({
      url: world.a.mcp.url,
      tool: 'whoami',
      userId: 'zhangsan',
      autoConsent: true,
      provider,
    });
    expect(answer.status, world.logLines.filter((l) => l.includes('metadata')).join('\n')).toBe('done');
    expect(answer.result?.structuredContent).toMatchObject({ name: '张三' });
    expect(provider.client?.client_id).toBe(clientMetadataUrl);
    const consent = answer.steps.find((s) => s.step === 'consent' && s.kind === 'app_consent');
    expect(consent).toMatchObject({ clientName: 'CIMD Agent 桌面助手' });
    expect(served).toContain('/agent.json');
  });

  it('a document naming another client_id, a huge one, a redirect or a 404 is refused', async () => {
    for (const path of ['/impostor.json', '/huge.json', '/moved.json', '/missing.json']) {
      const res = await authorize(`${docsBase}${path}`);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    }
    expect(served.filter((p) => p === '/agent.json').length).toBe(1); // the redirect was not followed
  });

  it('with the default SSRF guard a loopback document is never fetched', async () => {
    const guarded = await startMcpServer(
      {
        appName: 'guarded',
        skills: world.a.skills.skills,
        invoke: (inv) => world.a.skills.invoke(inv),
        tokens: world.a.tokens,
        appKey: 'dingsandboxapp001',
        logger: silentLogger(),
      },
      { port: 0, auth: { state: world.states[0]!.store, loginBase: world.sandbox.url } },
    );
    try {
      const before = served.length;
      const res = await authorize(`${docsBase}/private.json`, guarded.url.replace(/\/mcp$/, ''));
      expect(res.status).toBe(400);
      expect(served.length).toBe(before);
      // A host name resolving to loopback is refused at connect time too.
      const named = await authorize(
        `https://localhost:${new URL(docsBase).port}/private.json`,
        guarded.url.replace(/\/mcp$/, ''),
      );
      expect(named.status).toBe(400);
      expect(served.length).toBe(before);
    } finally {
      await guarded.close();
    }
  });
});
