/**
 * `dingtalk-skills start` with a bot: DINGTALK_BOT_CONSENT_URL is the public callback URL (behind a
 * proxy), served on the ops port at its path. Against an in-process sandbox as DINGTALK_API_BASE: the
 * authorization card points at that URL, the sandbox plays the login host, and the consent served on
 * the ops port re-runs the message as the sender. Without an ops port the command refuses to start.
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../support/child-process.js';
import { BIN, ROOT, requireBuiltCli, runCli } from './dev-process.js';

const PUBLIC = 'https://bot.example.test/dingtalk/bot/consent';
let sandbox: Sandbox;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: SEED_APP.clientId,
    DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
    DINGTALK_API_BASE: sandbox.url,
    DINGTALK_BOT_CONSENT_URL: PUBLIC,
    ...extra,
  };
}

async function api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 800; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  await api(`/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, { uri: PUBLIC });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('dingtalk-skills start with a bot', () => {
  it('refuses DINGTALK_BOT_CONSENT_URL without an ops port, saying why', async () => {
    const run = await runCli(['start', 'examples/bot'], 20_000, { env: env() });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('DINGTALK_BOT_CONSENT_URL is served on the ops port');
  });

  it('serves the consent callback on the ops port; the message runs again as the sender', async () => {
    requireBuiltCli();
    const child = spawnNode([BIN, 'start', 'examples/bot', '--ops-port', '0'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', DINGTALK_STATE: 'memory:', ...env() },
    });
    try {
      const ops = await child.waitForOutput(
        /ops endpoints\s+(http:\/\/127\.0\.0\.1:\d+)/,
        30_000,
        'the ops line',
      );
      const sent = await api<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
        from: 'lisi',
        text: '我今天有什么会?',
      });
      const card = await until('the authorization card', async () => {
        const { messages } = await api<{
          messages: Array<{ msgId?: string; msgtype: string; buttons?: Array<{ url: string }> }>;
        }>(`/sandbox/bots/conversations/${sent.conversationId}/messages`);
        return messages.find((m) => m.msgtype === 'actionCard');
      });
      const url = new URL(card.buttons?.[0]?.url ?? '');
      expect(`${url.origin}${url.pathname}`).toBe(`${sandbox.url}/oauth2/auth`);
      expect(url.searchParams.get('redirect_uri')).toBe(PUBLIC);
      const html = await (await fetch(url)).text();
      const nonce = /name="nonce" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const decided = await fetch(`${sandbox.url}/oauth2/auth/decide`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ nonce, decision: 'approve', userId: 'lisi' }).toString(),
        redirect: 'manual',
      });
      const redirect = new URL(decided.headers.get('location') ?? '');
      expect(redirect.origin).toBe('https://bot.example.test');
      // The proxy in front of the public URL forwards to the ops port.
      const callback = await fetch(`${ops}${redirect.pathname}${redirect.search}`);
      expect(callback.status).toBe(200);
      const answer = await until('the AI card', async () => {
        const { cards } = await api<{ cards: Array<{ flowStatus: string | null; text: string }> }>(
          '/sandbox/cards?spaceId=lisi',
        );
        return cards.find((c) => c.flowStatus === '3' && c.text.includes('李四'));
      });
      expect(answer.text).toContain('产品培训');
    } finally {
      await child.stop(10_000);
    }
  });
});
