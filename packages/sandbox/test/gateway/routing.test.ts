import { SEED_APP, SEED_CORP } from '@dingtalk-skills/sandbox';
import { describe, expect, it } from 'vitest';
import { eventually, http, sandboxPerTest } from './support.js';

const { start, connect } = sandboxPerTest();

const GRAPH = '/v1.0/graph/api/invoke';
const BOT = '/v1.0/im/bot/messages/get';

describe('frames on the wire', () => {
  it('sends EVENT frames with specVersion 1.0, string headers, event headers and data as a JSON string', async () => {
    const sandbox = await start();
    const client = await connect(sandbox);
    const res = await http<{ eventId: string; messageId: string }>(sandbox, 'POST', '/sandbox/events', {
      eventType: 'user_add_org',
      data: { userId: ['zhangsan'] },
      eventId: 'evt-1',
    });
    expect(res.status).toBe(200);
    expect(res.body.eventId).toBe('evt-1');
    const frame = await client.nextFrame((f) => f.type === 'EVENT');
    expect(frame.specVersion).toBe('1.0');
    expect(frame.headers).toMatchObject({
      topic: '*',
      messageId: res.body.messageId,
      contentType: 'application/json',
      appId: SEED_APP.clientId,
      eventId: 'evt-1',
      eventType: 'user_add_org',
      eventCorpId: SEED_CORP.corpId,
    });
    for (const value of Object.values(frame.headers)) expect(typeof value).toBe('string');
    expect(frame.headers.time).toMatch(/^\d{13}$/);
    expect(frame.headers.eventBornTime).toMatch(/^\d{13}$/);
    const list = await http<{ connections: Array<{ id: string }> }>(sandbox, 'GET', '/sandbox/connections');
    expect(frame.headers.connectionId).toBe(list.body.connections[0]?.id);
    expect(JSON.parse(frame.data)).toEqual({ userId: ['zhangsan'] });
  });

  it('sends CALLBACK frames on their topic with the data as a JSON string', async () => {
    const sandbox = await start();
    const client = await connect(sandbox);
    const data = { requestLine: { method: 'GET', uri: '/v1/x' }, headers: {}, body: '{}' };
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'answered', response: { ok: true } });
    const frame = client.received('CALLBACK')[0];
    expect(frame?.headers.topic).toBe(GRAPH);
    expect(JSON.parse(frame?.data ?? '')).toEqual(data);
  });
});

describe('subscriptions routing', () => {
  it('delivers EVENTs only to EVENT subscribers and CALLBACKs only to subscribers of the topic', async () => {
    const sandbox = await start();
    const events = await connect(sandbox, { subscriptions: [{ type: 'EVENT', topic: '*' }] });
    const graph = await connect(sandbox, { subscriptions: [{ type: 'CALLBACK', topic: GRAPH }] });
    const bot = await connect(sandbox, { subscriptions: [{ type: 'CALLBACK', topic: BOT }] });
    for (let i = 0; i < 5; i++) {
      expect((await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { i } })).status).toBe(
        200,
      );
      expect((await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: { i } })).status).toBe(
        200,
      );
      expect((await http(sandbox, 'POST', '/sandbox/callbacks', { topic: BOT, data: { i } })).status).toBe(
        200,
      );
    }
    await events.waitFor(() => events.received('EVENT').length === 5);
    expect(events.received('CALLBACK')).toHaveLength(0);
    expect(graph.received('CALLBACK', GRAPH)).toHaveLength(5);
    expect(graph.received('CALLBACK', BOT).length + graph.received('EVENT').length).toBe(0);
    expect(bot.received('CALLBACK', BOT)).toHaveLength(5);
    expect(bot.received('CALLBACK', GRAPH).length + bot.received('EVENT').length).toBe(0);
  });

  it('answers a CALLBACK on a topic nobody subscribes to at once with 409 noSubscriber', async () => {
    const sandbox = await start();
    await connect(sandbox, { subscriptions: [{ type: 'EVENT', topic: '*' }] });
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: 'error', code: 'noSubscriber' });
    const direct = await sandbox.gateway.invokeCallback({ topic: BOT, data: {} });
    expect(direct).toMatchObject({ status: 'error', code: 'noSubscriber' });
  });

  it('holds an EVENT push with no EVENT subscriber (202 held); heldEventLimit 0 answers 409 noSubscriber', async () => {
    const sandbox = await start();
    const graphOnly = await connect(sandbox, { subscriptions: [{ type: 'CALLBACK', topic: GRAPH }] });
    const res = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: {} });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'held' });
    expect(graphOnly.received('EVENT')).toHaveLength(0);
    expect(sandbox.gateway.heldEvents()).toHaveLength(1);
  });

  it('answers an EVENT push with no EVENT subscriber with 409 noSubscriber when holding is off', async () => {
    const sandbox = await start({ heldEventLimit: 0 });
    await connect(sandbox, { subscriptions: [{ type: 'CALLBACK', topic: GRAPH }] });
    const res = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: {} });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'noSubscriber' });
  });

  it('routes by app: connections of another app get nothing, unknown apps get 404', async () => {
    const other = { clientId: 'dingotherapp', clientSecret: 'other-secret' };
    const sandbox = await start({ apps: [{ ...SEED_APP, redirectUris: [] }, other] });
    const mine = await connect(sandbox);
    const theirs = await connect(sandbox, other);
    await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: {}, clientId: other.clientId });
    await theirs.waitFor(() => theirs.received('EVENT').length === 1);
    await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(mine.received('CALLBACK')).toHaveLength(1);
    expect(mine.received('EVENT')).toHaveLength(0);
    expect(theirs.received('CALLBACK')).toHaveLength(0);
    const unknown = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', clientId: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'unknownApp' });
  });

  it('spreads messages of one app across its connections at random', async () => {
    const sandbox = await start();
    const a = await connect(sandbox);
    const b = await connect(sandbox);
    for (let i = 0; i < 100; i++) {
      await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { i } });
      await sandbox.gateway.invokeCallback({ topic: GRAPH, data: { i } });
    }
    await eventually(() => a.received('EVENT').length + b.received('EVENT').length === 100);
    const total = a.frames.length + b.frames.length;
    expect(total).toBe(200);
    // Each of two connections gets some: P(one gets none of 200) = 2^-199.
    expect(a.received('EVENT').length).toBeGreaterThan(0);
    expect(b.received('EVENT').length).toBeGreaterThan(0);
    expect(a.received('CALLBACK').length).toBeGreaterThan(0);
    expect(b.received('CALLBACK').length).toBeGreaterThan(0);
  });
});
