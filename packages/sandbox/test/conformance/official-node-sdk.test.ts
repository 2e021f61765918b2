/**
 * Conformance: the official `dingtalk-stream` npm SDK (unchanged, from node_modules) runs against the
 * sandbox: connections/open, the WebSocket, ping answers, an EVENT and a Graph API CALLBACK.
 *
 * Redirecting it: the SDK hardcodes `GATEWAY_URL = https://api.dingtalk.com/v1.0/gateway/connections/open`
 * (its config has an `endpoint` field, but `getEndpoint()` overwrites it and never reads it) and
 * makes the request with the shared default `axios` instance. Axios request interceptors are the
 * library's public, supported hook for rewriting requests, so this test adds one to that same
 * instance (the SDK's `import axios from 'axios'` and ours resolve to the same module) that
 * rewrites the `https://api.dingtalk.com` origin to the sandbox's loopback URL, and removes it
 * afterwards. The SDK's own request code (body, Accept header, response handling) runs unchanged;
 * it then connects to the `ws://127.0.0.1:<port>/connect` endpoint the sandbox returned.
 */

import type { DeliveryRecord } from '@dingtalk-skills/sandbox';
import { SEED_APP } from '@dingtalk-skills/sandbox';
import axios from 'axios';
import { DWClient, type DWClientDownStream, EventAck } from 'dingtalk-stream';
import { TOPIC_AI_GRAPH_API } from 'dingtalk-stream/constants';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually, http, startSandbox } from '../gateway/support.js';

const REAL_API = 'https://api.dingtalk.com';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
let interceptor: number;
let redirected: string[] = [];
let client: DWClient;
const events: DWClientDownStream[] = [];
const callbacks: DWClientDownStream[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pingIntervalMs: 100, disconnectGraceMs: 100 });
  interceptor = axios.interceptors.request.use((config) => {
    if (config.url?.startsWith(`${REAL_API}/`)) {
      config.url = sandbox.url + config.url.slice(REAL_API.length);
      redirected.push(config.url);
    }
    return config;
  });
  // The SDK prints "connect success" with console.info; keep test output clean.
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  client = new DWClient({
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    ua: 'conformance-test',
    keepAlive: false,
  });
  client.registerAllEventListener((message) => {
    events.push(message);
    return { status: EventAck.SUCCESS, message: 'OK' };
  });
  client.registerCallbackListener(TOPIC_AI_GRAPH_API, (message) => {
    callbacks.push(message);
    client.sendGraphAPIResponse(message.headers.messageId, {
      response: {
        statusLine: { code: 200, reasonPhrase: 'OK' },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: '晴天' }),
      },
    });
  });
  await client.connect();
  await sandbox.gateway.waitForConnection({ clientId: SEED_APP.clientId, topic: TOPIC_AI_GRAPH_API });
});

afterAll(async () => {
  client?.disconnect();
  axios.interceptors.request.eject(interceptor);
  redirected = [];
  vi.restoreAllMocks();
  await sandbox?.close();
});

async function deliveries(query: string): Promise<DeliveryRecord[]> {
  const res = await http<{ deliveries: DeliveryRecord[] }>(sandbox, 'GET', `/sandbox/deliveries${query}`);
  return res.body.deliveries;
}

describe('official dingtalk-stream (Node) against the sandbox', () => {
  it('opens its connection through connections/open with its subscriptions and ua', () => {
    expect(redirected).toContain(`${sandbox.url}/v1.0/gateway/connections/open`);
    const [conn] = sandbox.gateway.listConnections({ includeClosed: false });
    expect(conn).toMatchObject({ appId: SEED_APP.clientId, ua: 'conformance-test', state: 'open' });
    expect(conn?.subscriptions).toEqual([
      { type: 'EVENT', topic: '*' },
      { type: 'CALLBACK', topic: TOPIC_AI_GRAPH_API },
    ]);
  });

  it('answers pings, echoing the opaque (with every header echoed, as the Node SDK does)', async () => {
    const pings = await eventually(async () => {
      const list = (await deliveries('?type=SYSTEM')).filter(
        (d) => d.topic === 'ping' && d.outcome !== 'pending',
      );
      return list.length >= 2 ? list : undefined;
    });
    for (const p of pings)
      expect(p).toMatchObject({ outcome: 'echoed', ack: { code: 200, variant: 'echoed-headers' } });
  });

  it('receives an EVENT and acks it SUCCESS', async () => {
    const res = await http<{ eventId: string; result: { status: string; attempts: number } }>(
      sandbox,
      'POST',
      '/sandbox/events',
      { eventType: 'chat_update_title', data: { chatId: 'c1', title: '新名字' }, wait: true },
    );
    expect(res.body.result).toMatchObject({ status: 'acked', attempts: 1 });
    expect(events).toHaveLength(1);
    expect(events[0]?.headers.eventType).toBe('chat_update_title');
    expect(JSON.parse(events[0]?.data ?? '{}')).toEqual({ chatId: 'c1', title: '新名字' });
    const [record] = await deliveries(`?eventId=${res.body.eventId}`);
    expect(record).toMatchObject({
      outcome: 'acked',
      ack: { code: 200, status: 'SUCCESS', variant: 'standard' },
    });
  });

  it('receives a Graph API CALLBACK and its answer reaches the platform', async () => {
    const request = {
      requestLine: { method: 'GET', uri: '/v1/actions/example/weather/get?date=2021-10-1' },
      headers: { 'content-type': 'application/json', 'x-ability-key': 'weather' },
      body: '{}',
    };
    const res = await http<{ status: string; response: unknown; messageId: string }>(
      sandbox,
      'POST',
      '/sandbox/callbacks',
      { topic: TOPIC_AI_GRAPH_API, data: request },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'answered',
      response: {
        statusLine: { code: 200, reasonPhrase: 'OK' },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: '晴天' }),
      },
    });
    expect(JSON.parse(callbacks[0]?.data ?? '{}')).toEqual(request);
    const [record] = await deliveries(`?messageId=${res.body.messageId}`);
    expect(record).toMatchObject({
      type: 'CALLBACK',
      outcome: 'answered',
      ack: { code: 200, variant: 'standard' },
    });
  });

  it('is not disturbed by the sandbox: no malformed or unmatched upstream messages', async () => {
    expect(await deliveries('?type=UPSTREAM')).toEqual([]);
  });

  it('reconnects with a new ticket after a SYSTEM disconnect closes its socket', async () => {
    const [first] = sandbox.gateway.listConnections({ includeClosed: false });
    const opened = redirected.length;
    sandbox.gateway.disconnect(first?.id ?? '');
    const next = await eventually(
      () => sandbox.gateway.listConnections({ includeClosed: false }).find((c) => c.id !== first?.id),
      10_000,
    );
    expect(next.state).toBe('open');
    expect(redirected.length).toBe(opened + 1);
    expect(sandbox.gateway.getConnection(first?.id ?? '')?.state).toBe('closed');
    const result = await sandbox.gateway.invokeCallback({ topic: TOPIC_AI_GRAPH_API, data: {} });
    expect(result).toMatchObject({ status: 'answered', connectionId: next.id });
  });
});
