/**
 * Access to the sandbox: it listens on loopback unless configured otherwise (checked by connecting
 * through this machine's other addresses), and its consent flow only ever redirects to a redirect_uri
 * registered for the app (exact match), binds state and the redirect to a single-use nonce on the
 * server, and the assistant's OAuth callback only accepts a state it issued, once. Codes are single
 * use and bound to the app they were issued to.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { generateSpecYaml, silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crm from '../../examples/crm/app.js';

const REGISTERED = SEED_APP.redirectUris[0];

/** This machine's addresses other than loopback (IPv4 and IPv6 without a zone). */
function otherAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal && !(i.family === 'IPv6' && i.address.startsWith('fe80')))
    .map((i) => i!.address);
}

/** Resolves 'open' when a TCP connection to host:port succeeds, 'refused' on ECONNREFUSED, else the error code. */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : String(err.code)),
    );
  });
}

describe('where the sandbox listens', () => {
  it('binds 127.0.0.1 by default: unreachable through any other address of this machine', async (ctx) => {
    const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
    try {
      expect(sandbox.host).toBe('127.0.0.1');
      expect(sandbox.server.server.address()).toMatchObject({ address: '127.0.0.1' });
      expect(await probe('127.0.0.1', sandbox.port)).toBe('open');
      const others = otherAddresses();
      if (others.length === 0) {
        console.warn(
          'sandbox-access: this machine has no address besides loopback; the reachability half is skipped',
        );
        ctx.skip();
      }
      for (const address of others) expect(await probe(address, sandbox.port), address).toBe('refused');
    } finally {
      await sandbox.close();
    }
  });

  it('listens elsewhere only when told to (host 0.0.0.0), and still prints a loopback URL', async (ctx) => {
    const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), host: '0.0.0.0' });
    try {
      expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
      const v4 = otherAddresses().filter((a) => !a.includes(':'));
      if (v4.length === 0) ctx.skip();
      for (const address of v4) expect(await probe(address, sandbox.port), address).toBe('open');
    } finally {
      await sandbox.close();
    }
  });
});

describe('the consent flow', () => {
  let sandbox: Sandbox;
  const authUrl = (params: Record<string, string>) =>
    `${sandbox.url}/oauth2/auth?${new URLSearchParams({
      client_id: SEED_APP.clientId,
      response_type: 'code',
      scope: 'openid Contact.User.Read',
      prompt: 'consent',
      ...params,
    })}`;
  const nonceOf = (html: string) => /name="nonce" value="([^"]+)"/.exec(html)?.[1];
  const decide = (form: Record<string, string>) =>
    fetch(`${sandbox.url}/oauth2/auth/decide`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });

  beforeAll(async () => {
    sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('refuses a redirect_uri not registered for the app, exactly: an error page, never a redirect', async () => {
    const lookalikes = [
      'https://evil.example/oauth2',
      `${REGISTERED}/`,
      `${REGISTERED}?next=https://evil.example`,
      `${REGISTERED}#x`,
      `${REGISTERED}/../evil`,
      REGISTERED.replace('https:', 'http:'),
      REGISTERED.replace('baymax.dingtalk.com', 'BAYMAX.dingtalk.com'),
      REGISTERED.replace('baymax.dingtalk.com', 'baymax.dingtalk.com.evil.example'),
      '',
    ];
    for (const uri of lookalikes) {
      const res = await fetch(authUrl({ redirect_uri: uri, state: 's' }), { redirect: 'manual' });
      expect(res.status, uri).toBe(400);
      expect(res.headers.get('location'), uri).toBeNull();
      expect(await res.text()).not.toContain('name="nonce"');
    }
    // Even the error cases that do redirect (bad response_type, bad scope) only do so to a registered URI.
    const bad = await fetch(authUrl({ redirect_uri: 'https://evil.example/cb', response_type: 'token' }), {
      redirect: 'manual',
    });
    expect(bad.status).toBe(400);
  });

  it('escapes what it echoes: a redirect_uri with markup comes back as text', async () => {
    const res = await fetch(authUrl({ redirect_uri: 'https://evil.example/<script>alert(1)</script>' }));
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('refuses an unknown client_id without redirecting', async () => {
    const res = await fetch(authUrl({ client_id: 'nobody', redirect_uri: REGISTERED }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('redirects to the registered URI with the state echoed exactly; the form cannot change either', async () => {
    const state = 'a b&c=d/é';
    const page = await (await fetch(authUrl({ redirect_uri: REGISTERED, state }))).text();
    const nonce = nonceOf(page)!;
    expect(nonce).toBeDefined();
    const res = await decide({
      nonce,
      decision: 'approve',
      userId: 'zhangsan',
      // Ignored: the request was bound to the nonce when the page was shown.
      redirect_uri: 'https://evil.example/cb',
      state: 'forged',
      client_id: 'other',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REGISTERED);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('code')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a consent page answers once: the nonce is single use, and an unknown one is refused', async () => {
    const nonce = nonceOf(await (await fetch(authUrl({ redirect_uri: REGISTERED, state: 'once' }))).text())!;
    expect((await decide({ nonce, decision: 'approve', userId: 'zhangsan' })).status).toBe(302);
    const replay = await decide({ nonce, decision: 'approve', userId: 'zhangsan' });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();
    const forged = await decide({ nonce: 'f'.repeat(32), decision: 'approve', userId: 'zhangsan' });
    expect(forged.status).toBe(400);
  });

  it('a code is single use and only for the app it was issued to', async () => {
    await fetch(`${sandbox.url}/sandbox/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'otherapp', clientSecret: 'other-secret' }),
    });
    const exchange = (clientId: string, clientSecret: string, code: string) =>
      fetch(`${sandbox.url}/v1.0/oauth2/userAccessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId, clientSecret, code, grantType: 'authorization_code' }),
      });
    const { code } = sandbox.platform.authorize({
      userId: 'lisi',
      clientId: SEED_APP.clientId,
      scopes: ['openid'],
    });
    const stolen = await exchange('otherapp', 'other-secret', code);
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { code: string }).code).toBe('invalidParameter.authCode.notFound');
    const own = await exchange(SEED_APP.clientId, SEED_APP.clientSecret, code);
    expect(own.status).toBe(200);
    const again = await exchange(SEED_APP.clientId, SEED_APP.clientSecret, code);
    expect(again.status).toBe(400);
  });
});

describe("the assistant's OAuth callback", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  const callback = (query: string) =>
    fetch(`${sandbox.url}/sandbox/assistant/oauth2?${query}`, { redirect: 'manual' });

  it('accepts the state it issued once: the replayed callback is refused', async () => {
    sandbox.assistant.registerSkillsYaml(
      SEED_APP.clientId,
      generateSpecYaml(crm.skills, { title: crm.name, protocol: 'stream' }),
    );
    const card = await sandbox.assistant.invoke({ operationId: 'whoami', userId: 'lisi' });
    expect(card.status).toBe('awaiting_consent');
    const consentUrl = new URL(card.consentUrl!, sandbox.url);
    const state = consentUrl.searchParams.get('state')!;
    expect(state).toMatch(/^[0-9a-f]{32}$/);
    const { redirect } = sandbox.platform.authorize({
      userId: 'lisi',
      clientId: SEED_APP.clientId,
      scopes: ['openid', 'Contact.User.Read'],
      redirectUri: consentUrl.searchParams.get('redirect_uri')!,
      state,
    });
    const query = new URL(redirect).search.slice(1);
    const first = await callback(query);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(/^\/\?conversation=/);
    const replay = await callback(query);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();
  });

  it('a missing or unknown state is refused without running anything', async () => {
    expect((await callback('code=abc')).status).toBe(400);
    const unknown = await callback(`code=abc&state=${'0'.repeat(32)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('location')).toBeNull();
    expect(await unknown.text()).toContain('unknown, used or expired state');
  });
});
