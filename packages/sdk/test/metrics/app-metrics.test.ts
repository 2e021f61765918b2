/**
 * Metrics and the ops endpoints of a running app, over real HTTP: an app started with `startApp` and a
 * `Metrics` against the sandbox (Stream gateway, OpenAPI, OAuth), `startOpsServer` on a loopback port,
 * scraped with fetch. Each step does something on the wire and checks the series it must move.
 */
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  defineApp,
  defineSkill,
  Metrics,
  type OpsServer,
  type RunningApp,
  silentLogger,
  startApp,
  startOpsServer,
} from '@dingtalk-skills/sdk';
import { streamReadiness } from '@dingtalk-skills/sdk/internal';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePromText, sumOf } from './prom-text.js';

const CLIENT_ID = 'dingsandboxapp001';
const GRAPH = '/v1.0/graph/api/invoke';
const ME = 'GET /v1.0/contact/users/me';
const USER_TOKEN = 'POST /v1.0/oauth2/userAccessToken';

const whoami = defineSkill({
  operationId: 'whoami',
  summary: 'Who am I',
  description: 'Reads the profile as the user.',
  method: 'GET',
  path: '/v1/actions/me',
  input: z.object({}),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => ({ name: (await ctx.userApi.contact.me()).nick }),
});

/** Event ids seen by the handler, to answer LATER (or throw) on the first attempt only. */
const seen = new Set<string>();
const app = defineApp({
  name: 'metrics test',
  skills: [whoami],
  onEvent: (event) => {
    const mode = event.data.mode;
    const first = !seen.has(event.id);
    seen.add(event.id);
    if (first && mode === 'later-once') return 'LATER';
    if (first && mode === 'throw-once') throw new Error('flaky downstream');
    return undefined;
  },
});

let sandbox: Sandbox;
let running: RunningApp;
let metrics: Metrics;
let ops: OpsServer;

async function scrape() {
  const res = await fetch(`${ops.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

async function graph(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const result = await sandbox.gateway.invokeCallback({
    topic: GRAPH,
    data: { requestLine: { method: 'GET', uri: `/v1/actions/me?${query}` }, headers: {}, body: '' },
    timeoutMs: 5_000,
  });
  if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
  const response = result.response as { statusLine: { code: number }; body: string };
  return { status: response.statusLine.code, body: JSON.parse(response.body) };
}

const ctx = (code?: string) =>
  `userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp${code ? `&oauthAuthCode=${code}` : ''}`;

beforeAll(async () => {
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    eventRedelivery: [50, 50, 50],
  });
  metrics = new Metrics({ defaultMetrics: false, labels: { instance: 'test-1' } });
  running = await startApp(app, {
    clientId: CLIENT_ID,
    clientSecret: 'sandbox-secret',
    apiBase: sandbox.url,
    logger: silentLogger(),
    rateLimiter: new WindowRateLimiter({ qps: 1_000 }),
    metrics,
  });
  ops = await startOpsServer({ port: 0, metrics, readiness: streamReadiness(running.stream) });
});

afterAll(async () => {
  await running?.stop();
  await ops?.close();
  await sandbox?.close();
});

describe('ops endpoints', () => {
  it('/healthz is 200; /readyz is 200 with one registered connection; unknown paths 404, POST 405', async () => {
    const health = await fetch(`${ops.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${ops.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', state: 'connected', connections: 1, of: 1 });
    expect((await fetch(`${ops.url}/nope`)).status).toBe(404);
    const post = await fetch(`${ops.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('app metrics', () => {
  it('connection state, in-flight and the default labels', async () => {
    const s = await scrape();
    expect(sumOf(s, 'dingtalk_stream_connections', { state: 'connected' })).toBe(1);
    expect(sumOf(s, 'dingtalk_stream_client_state', { state: 'connected' })).toBe(1);
    expect(sumOf(s, 'dingtalk_stream_client_state', { state: 'reconnecting' })).toBe(0);
    expect(sumOf(s, 'dingtalk_stream_in_flight')).toBe(0);
    expect(s.find((x) => x.name === 'dingtalk_stream_in_flight')?.labels).toEqual({ instance: 'test-1' });
  });

  it('skills: an authorization-card answer, a code exchange, OpenAPI calls by endpoint and code', async () => {
    expect((await graph(ctx())).status).toBe(400);
    let s = await scrape();
    expect(
      sumOf(s, 'dingtalk_skill_authorization_answers_total', {
        skill: 'whoami',
        code: 'InvalidAuthentication',
      }),
    ).toBe(1);
    expect(sumOf(s, 'dingtalk_skill_invocations_total', { skill: 'whoami', outcome: 'auth' })).toBe(1);

    const code = sandbox.platform.authorize({
      userId: 'zhangsan',
      clientId: CLIENT_ID,
      scopes: ['Contact.User.Read'],
    }).code;
    expect(await graph(ctx(code))).toEqual({ status: 200, body: { name: '张三' } });
    s = await scrape();
    expect(sumOf(s, 'dingtalk_user_token_code_exchanges_total', { result: 'ok' })).toBe(1);
    expect(sumOf(s, 'dingtalk_openapi_requests_total', { api: USER_TOKEN, status: '200', code: 'OK' })).toBe(
      1,
    );
    // Twice: once to learn whose token the code gave (before filing it), once by the handler.
    expect(sumOf(s, 'dingtalk_openapi_requests_total', { api: ME, status: '200', code: 'OK' })).toBe(2);
    expect(sumOf(s, 'dingtalk_openapi_request_duration_seconds_count', { api: ME })).toBe(2);
    expect(
      sumOf(s, 'dingtalk_skill_invocations_total', { skill: 'whoami', source: 'graph', outcome: 'ok' }),
    ).toBe(1);
    expect(
      sumOf(s, 'dingtalk_stream_messages_total', { type: 'CALLBACK', topic: GRAPH, outcome: 'answered' }),
    ).toBe(2);
    expect(
      sumOf(s, 'dingtalk_stream_handler_duration_seconds_count', { type: 'CALLBACK', topic: GRAPH }),
    ).toBe(2);
  });

  it('an expired token: the rejected call by its code, one refresh counted ok, then a failed refresh counted rejected', async () => {
    await fetch(`${sandbox.url}/sandbox/users/zhangsan/expire-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: CLIENT_ID }),
    });
    expect((await graph(ctx())).status).toBe(200);
    let s = await scrape();
    expect(
      sumOf(s, 'dingtalk_openapi_requests_total', {
        api: ME,
        status: '400',
        code: 'InvalidAuthentication',
      }),
    ).toBe(1);
    expect(sumOf(s, 'dingtalk_user_token_refreshes_total', { result: 'ok' })).toBe(1);

    await fetch(`${sandbox.url}/sandbox/users/zhangsan/expire-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: CLIENT_ID, includeRefresh: true }),
    });
    expect((await graph(ctx())).status).toBe(400);
    s = await scrape();
    expect(sumOf(s, 'dingtalk_user_token_refreshes_total', { result: 'rejected' })).toBe(1);
    expect(sumOf(s, 'dingtalk_skill_authorization_answers_total', { skill: 'whoami' })).toBe(2);
  });

  it('EVENTs by outcome: success, later, failed, duplicate; unregistered topics as not_found', async () => {
    const pushed = [
      sandbox.gateway.pushEvent({ eventType: 'test', data: { mode: 'ok' } }),
      sandbox.gateway.pushEvent({ eventType: 'test', data: { mode: 'later-once' } }),
      sandbox.gateway.pushEvent({ eventType: 'test', data: { mode: 'throw-once' } }),
      sandbox.gateway.pushEvent({ eventType: 'test', data: { mode: 'ok' }, duplicate: true }),
    ];
    const results = await Promise.all(pushed.map((p) => p.done));
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'acked', 'acked']);
    const s = await scrape();
    const events = (outcome: string) =>
      sumOf(s, 'dingtalk_stream_messages_total', { type: 'EVENT', topic: '*', outcome });
    expect(events('success')).toBe(4);
    expect(events('later')).toBe(1);
    expect(events('failed')).toBe(1);
    expect(events('duplicate')).toBe(1);
    expect(sumOf(s, 'dingtalk_stream_handler_duration_seconds_count', { type: 'EVENT' })).toBe(6);
    expect(sumOf(s, 'dingtalk_stream_dedup_errors_total')).toBe(0);

    const [conn] = sandbox.gateway.listConnections();
    sandbox.gateway.sendRaw(
      conn!.id,
      JSON.stringify({
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: { topic: '/v1.0/not/mine', messageId: 'raw-1', contentType: 'application/json', time: '1' },
        data: '{}',
      }),
    );
    const deadline = Date.now() + 5_000;
    let notFound = 0;
    while (notFound === 0 && Date.now() < deadline) {
      notFound = sumOf(await scrape(), 'dingtalk_stream_messages_total', {
        topic: '(unregistered)',
        outcome: 'not_found',
      });
    }
    expect(notFound).toBe(1);
  });

  it('two Metrics in one process keep their series apart (own registries)', async () => {
    const other = new Metrics({ defaultMetrics: false });
    other.messageAnswered('EVENT', '*', 'success', 0.001);
    const mine = await scrape();
    const theirs = parsePromText(await other.render());
    expect(sumOf(theirs, 'dingtalk_stream_messages_total')).toBe(1);
    expect(sumOf(mine, 'dingtalk_stream_messages_total', { type: 'EVENT', outcome: 'success' })).toBe(4);
    expect(theirs.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(false);
    const withDefaults = new Metrics();
    expect(
      parsePromText(await withDefaults.render()).some((x) => x.name === 'process_cpu_user_seconds_total'),
    ).toBe(true);
  });

  it('/readyz turns 503 once the app stops', async () => {
    await running.stop();
    const res = await fetch(`${ops.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not ready', state: 'stopped', connections: 0 });
    const s = await scrape();
    expect(sumOf(s, 'dingtalk_stream_client_state', { state: 'stopped' })).toBe(1);
  });
});
