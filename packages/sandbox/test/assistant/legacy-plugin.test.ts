/**
 * The assistant drives a registered legacy AI plugin (AI 插件, the seed's mechanism) over the wire: a
 * CALLBACK on `/v1.0/agi/plugins/callback` with `{abilityKey, data, pluginId, pluginVersion,
 * requestId}`; the user's access token inside `data` when there is one; the plugin's
 * `{success:false, code, requestId}` answer becomes the authorization card; after consent the plugin
 * runs once more with a fresh token. The plugin here is a raw `ws` client written against the wire.
 */
import { SEED_APP } from '@dingtalk-skills/sandbox';
import {
  CONNECTIONS_OPEN_PATH,
  callbackAck,
  parseDownstreamFrame,
  serializeAck,
  Topic,
} from '@dingtalk-skills/sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { InvokeOutcome, TranscriptStep } from '../../src/assistant/index.js';
import { type Harness, http, startHarness, TEST_SPEC_YAML } from './harness.js';

interface PluginCall {
  topic: string;
  abilityKey: string;
  data: Record<string, unknown>;
  pluginId: string;
  pluginVersion: string;
  requestId: string;
}

/** A legacy plugin on a raw socket: answers the seed's failure structure without a token, else checks the token. */
class RawPlugin {
  readonly calls: PluginCall[] = [];
  readonly meAnswers: Array<{ status: number; unionId?: string }> = [];
  private constructor(readonly ws: WebSocket) {}

  static async connect(base: string): Promise<RawPlugin> {
    const res = await fetch(`${base}${CONNECTIONS_OPEN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        subscriptions: [{ type: 'CALLBACK', topic: Topic.PluginCallback }],
        ua: 'raw-plugin/1.0',
        localIp: '10.0.0.8',
      }),
    });
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    const ws = new WebSocket(`${endpoint}?ticket=${encodeURIComponent(ticket)}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const plugin = new RawPlugin(ws);
    ws.on('message', (raw) => {
      const frame = parseDownstreamFrame(raw.toString());
      if (frame.type !== 'CALLBACK') return;
      const call = { topic: frame.headers.topic, ...JSON.parse(frame.data) } as PluginCall;
      plugin.calls.push(call);
      void plugin
        .answer(base, call)
        .then((response) => ws.send(serializeAck(callbackAck(frame.headers.messageId, response))));
    });
    return plugin;
  }

  async answer(base: string, call: PluginCall): Promise<unknown> {
    const token = call.data.accessToken;
    if (typeof token !== 'string')
      return { success: false, code: 'InvalidAuthentication', requestId: call.requestId };
    const me = await fetch(`${base}/v1.0/contact/users/me`, {
      headers: { 'x-acs-dingtalk-access-token': token, accept: 'application/json' },
    });
    const body = (await me.json()) as { unionId?: string };
    this.meAnswers.push({ status: me.status, ...(body.unionId ? { unionId: body.unionId } : {}) });
    if (me.status !== 200)
      return { success: false, code: 'InvalidAuthentication', requestId: call.requestId };
    return { requestId: call.requestId, result: { taskId: 'task-plugin', subject: call.data.subject } };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

let h: Harness;
let plugin: RawPlugin;

beforeAll(async () => {
  h = await startHarness();
  const reg = await http<{ legacyPlugin?: unknown }>(h.url, 'POST', '/sandbox/skills', {
    yaml: TEST_SPEC_YAML,
    legacyPlugin: { pluginId: 'AI-test-plugin', pluginVersion: '1.2.0' },
  });
  expect(reg.status).toBe(200);
  expect(reg.body.legacyPlugin).toEqual({ pluginId: 'AI-test-plugin', pluginVersion: '1.2.0' });
  plugin = await RawPlugin.connect(h.url);
});
afterAll(async () => {
  await plugin.close();
  await h.close();
});

function steps(t: TranscriptStep[]): string[] {
  return t.map((s) => (s.step === 'invoke' ? `invoke#${s.attempt}` : s.step));
}

describe('a legacy AI plugin driven by the assistant', () => {
  it('no token -> the plugin answers {success:false, code} -> card -> consent -> one re-run with a fresh token in data', async () => {
    const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '插件待办' },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('awaiting_consent');
    // The plugin was called first (the plugin triggers the card itself), without a token.
    expect(plugin.calls).toHaveLength(1);
    const first = plugin.calls[0]!;
    expect(first).toMatchObject({
      topic: '/v1.0/agi/plugins/callback',
      abilityKey: 'createTodo',
      pluginId: 'AI-test-plugin',
      pluginVersion: '1.2.0',
      data: { subject: '插件待办' },
    });
    expect(first.data.accessToken).toBeUndefined();
    const card = res.body.transcript.find((s) => s.step === 'auth_card') as Extract<
      TranscriptStep,
      { step: 'auth_card' }
    >;
    expect(card).toMatchObject({
      trigger: 'skill',
      code: 'InvalidAuthentication',
      requestId: first.requestId,
    });
    expect(card.requestedScopes).toEqual(['openid', 'Todo.PersonalTodo.Write']);

    // Consent on the real consent page, then the callback: the plugin runs once more.
    const page = await fetch(res.body.consentUrl!);
    const nonce = /name="nonce" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(nonce).toBeDefined();
    const decided = await fetch(`${h.url}/oauth2/auth/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ nonce: nonce!, decision: 'approve', userId: 'zhangsan' }).toString(),
      redirect: 'manual',
    });
    const back = await fetch(decided.headers.get('location')!, { redirect: 'manual' });
    expect(back.status).toBe(302);

    expect(plugin.calls).toHaveLength(2);
    const second = plugin.calls[1]!;
    expect(second.abilityKey).toBe('createTodo');
    expect(second.data.subject).toBe('插件待办');
    expect(typeof second.data.accessToken).toBe('string');
    expect(second.requestId).not.toBe(first.requestId);
    // The token is a real user token of the person talking.
    expect(plugin.meAnswers).toEqual([{ status: 200, unionId: 'union-zhangsan' }]);

    const conv = await http<{ transcript: TranscriptStep[]; invocations: Array<{ skillCalls: number }> }>(
      h.url,
      'GET',
      `/sandbox/assistant/conversations/${res.body.conversationId}`,
    );
    expect(steps(conv.body.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(conv.body.transcript.at(-1)).toMatchObject({
      step: 'result',
      status: 200,
      body: { taskId: 'task-plugin', subject: '插件待办' },
    });
    expect(conv.body.invocations[0]!.skillCalls).toBe(2);
  });

  it('with a grant the plugin gets the token on the first call; after a revoke the card comes back', async () => {
    // zhangsan granted the app above: the first call carries a token now.
    const ok = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '第二个' },
    });
    expect(steps(ok.body.transcript)).toEqual(['invoke#1', 'result']);
    expect(typeof plugin.calls.at(-1)!.data.accessToken).toBe('string');

    const revoked = await http(h.url, 'POST', '/sandbox/users/zhangsan/revoke', {
      clientId: SEED_APP.clientId,
    });
    expect(revoked.status).toBe(200);
    const before = plugin.calls.length;
    const out = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '撤销后' },
      autoConsent: true,
    });
    // Revoked: no token -> card -> headless consent -> re-run with a fresh token.
    expect(steps(out.body.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(plugin.calls.length - before).toBe(2);
    expect(plugin.calls.at(-2)!.data.accessToken).toBeUndefined();
    expect(typeof plugin.calls.at(-1)!.data.accessToken).toBe('string');
  });
});
