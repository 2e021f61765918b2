/**
 * Another website cannot drive the sandbox (issue 11 #7), in Debian's Chromium:
 * - a page served from a second loopback origin (another port) sends what a browser lets any page send
 *   without a CORS preflight: body-less POSTs (`gateway/reset`, `reset`, `expire-token`) and a
 *   `text/plain` YAML POST to `/sandbox/skills`. The sandbox's state is unchanged afterwards.
 * - a DNS-rebinding page (`rebind.test` resolved to 127.0.0.1, on the sandbox's port) is refused on
 *   every request, even the ones the browser calls same-origin.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';

const SKILLS_YAML = `openapi: 3.0.1
info: {title: Injected, version: 1.0.0}
x-dingtalk-protocol: stream
paths:
  /v1/steal:
    get: {summary: Steal, description: Injected by another website., operationId: stealEverything}
`;

const ATTACKER_PAGE = '<!doctype html><html><body><h1>a page on another website</h1></body></html>';

describe.skipIf(!existsSync(CHROMIUM))('the sandbox driven from other websites (Chromium)', () => {
  let sandbox: Sandbox;
  let attacker: Server;
  let attackerUrl: string;
  let browser: Browser;

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  /** What the attacks would change: the ack fault, zhangsan's grants and tokens, the registered skills. */
  const state = async () => ({
    ackFault: await control('GET', '/sandbox/faults/acks'),
    grants: ((await control('GET', '/sandbox/grants?userId=zhangsan')).grants as unknown[]).length,
    tokens: await control('GET', `/sandbox/stats/tokens?userId=zhangsan&clientId=${SEED_APP.clientId}`),
    skills: ((await control('GET', '/sandbox/skills')).skills as unknown[]).length,
  });

  beforeAll(async () => {
    sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(ATTACKER_PAGE);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const address = attacker.address();
    attackerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    browser = await launchChromium(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
    // State worth attacking: a withheld-ack fault, a grant with tokens for zhangsan.
    await control('POST', '/sandbox/faults/acks', { mode: 'withhold' });
    const { code } = (await control('POST', '/sandbox/oauth/authorize', {
      userId: 'zhangsan',
      clientId: SEED_APP.clientId,
      scopes: ['openid', 'Contact.User.Read'],
    })) as { code: string };
    const exchanged = await fetch(`${sandbox.url}/v1.0/oauth2/userAccessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        code,
        grantType: 'authorization_code',
      }),
    });
    expect(exchanged.status).toBe(200);
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await sandbox?.close();
  });

  it('a page on another loopback port: body-less and text/plain POSTs change nothing', async () => {
    const before = await state();
    expect(before.ackFault).toEqual({ mode: 'withhold' });
    expect(before.grants).toBeGreaterThan(0);
    const page = await browser.newPage();
    try {
      await page.goto(attackerUrl);
      const sent = await page.evaluate(
        async ({ base, yaml }) => {
          const attacks: Array<[string, RequestInit]> = [
            ['/sandbox/gateway/reset', { method: 'POST' }],
            ['/sandbox/users/zhangsan/expire-token', { method: 'POST' }],
            ['/sandbox/reset', { method: 'POST' }],
            ['/sandbox/skills', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: yaml }],
          ];
          let count = 0;
          for (const [path, init] of attacks) {
            // no-cors: the answer is opaque, but the request reaches the sandbox (that was the hole).
            await fetch(base + path, { ...init, mode: 'no-cors' });
            count++;
          }
          return count;
        },
        { base: sandbox.url, yaml: SKILLS_YAML },
      );
      expect(sent).toBe(4);
      // A form post too (what a page without any script of its own can send), into a frame.
      const formAction = JSON.stringify(`${sandbox.url}/sandbox/gateway/reset`);
      await page.evaluate(`new Promise((resolve) => {
        const frame = document.createElement('iframe');
        frame.name = 'sink';
        document.body.append(frame);
        frame.addEventListener('load', resolve, { once: true });
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = ${formAction};
        form.target = 'sink';
        document.body.append(form);
        form.submit();
      })`);
    } finally {
      await page.close();
    }
    expect(await state()).toEqual(before);
  });

  it('a DNS-rebinding page (another name for 127.0.0.1 on the sandbox port) is refused, reads and writes', async () => {
    const before = await state();
    const page = await browser.newPage();
    try {
      const port = new URL(sandbox.url).port;
      const landing = await page.goto(`http://rebind.test:${port}/sandbox/health`);
      expect(landing?.status()).toBe(403);
      expect(await landing?.json()).toMatchObject({ code: 'forbiddenHost' });
      // To the browser this is same-origin: it would read the answers and could send JSON.
      const answers = await page.evaluate(async () => {
        const reset = await fetch('/sandbox/gateway/reset', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const users = await fetch('/sandbox/users');
        return [reset.status, users.status, ((await reset.json()) as { code?: string }).code];
      });
      expect(answers).toEqual([403, 403, 'forbiddenHost']);
    } finally {
      await page.close();
    }
    expect(await state()).toEqual(before);
  });
});
