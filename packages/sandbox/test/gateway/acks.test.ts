import type { DeliveryRecord, Sandbox } from '@dingtalk-skills/sandbox';
import type { DownstreamFrame } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { type AutoAck, captureLogs, eventually, http, type RawClient, sandboxPerTest } from './support.js';

const { start, connect: connectClient } = sandboxPerTest();

const GRAPH = '/v1.0/graph/api/invoke';
// Acks here arrive well within the timeouts; only redelivery delays are short.
const FAST = { ackTimeoutMs: 5_000, eventRedelivery: [50, 50], callbackTimeoutMs: 5_000 };

function connect(s: Sandbox, autoAck: AutoAck | null): Promise<RawClient> {
  return connectClient(s, { autoAck });
}

async function deliveries(s: Sandbox, query = ''): Promise<DeliveryRecord[]> {
  const res = await http<{ deliveries: DeliveryRecord[] }>(s, 'GET', `/sandbox/deliveries${query}`);
  return res.body.deliveries;
}

function headers(frame: DownstreamFrame) {
  return { messageId: frame.headers.messageId, contentType: 'application/json' };
}

describe('EVENT ack variants of the official SDKs', () => {
  it('Python: code 200 echoing the event data without status counts as success', async () => {
    const sandbox = await start(FAST);
    await connect(sandbox, (f) =>
      f.type === 'EVENT' ? { code: 200, headers: headers(f), message: 'OK', data: f.data } : undefined,
    );
    const res = await http<{ result: { status: string; attempts: number }; eventId: string }>(
      sandbox,
      'POST',
      '/sandbox/events',
      { eventType: 't', data: { a: 1 }, wait: true },
    );
    expect(res.body.result).toMatchObject({ status: 'acked', attempts: 1 });
    const [record] = await deliveries(sandbox, `?eventId=${res.body.eventId}`);
    expect(record).toMatchObject({
      outcome: 'acked',
      ack: { variant: 'no-status', status: 'SUCCESS', code: 200 },
    });
  });

  it('Go: LATER answered with code 500 is redelivered with the same eventId and a new messageId', async () => {
    const sandbox = await start(FAST);
    let seen = 0;
    await connect(sandbox, (f) => {
      if (f.type !== 'EVENT') return undefined;
      seen++;
      return seen === 1
        ? { code: 500, headers: headers(f), message: 'later', data: JSON.stringify({ status: 'LATER' }) }
        : { code: 200, headers: headers(f), message: 'OK', data: JSON.stringify({ status: 'SUCCESS' }) };
    });
    const res = await http<{
      result: { status: string; attempts: number; messageIds: string[] };
      eventId: string;
    }>(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: {}, wait: true });
    expect(res.body.result.status).toBe('acked');
    expect(res.body.result.attempts).toBe(2);
    const [first, second] = await deliveries(sandbox, `?eventId=${res.body.eventId}`);
    expect(first).toMatchObject({ attempt: 1, outcome: 'later', ack: { code: 500, variant: 'error-code' } });
    expect(second).toMatchObject({ attempt: 2, outcome: 'acked', eventId: res.body.eventId });
    expect(second?.messageId).not.toBe(first?.messageId);
  });

  it('Node: an ack echoing every downstream header is accepted', async () => {
    const sandbox = await start(FAST);
    await connect(sandbox, (f) => ({
      code: 200,
      headers: f.headers,
      message: 'OK',
      data: f.type === 'EVENT' ? JSON.stringify({ status: 'SUCCESS' }) : f.data,
    }));
    const res = await http<{ result: { status: string }; eventId: string }>(
      sandbox,
      'POST',
      '/sandbox/events',
      {
        eventType: 't',
        data: {},
        wait: true,
      },
    );
    expect(res.body.result.status).toBe('acked');
    const [record] = await deliveries(sandbox, `?eventId=${res.body.eventId}`);
    expect(record?.ack?.variant).toBe('echoed-headers');
  });

  it.each([
    ['data missing (Java on errors, Go)', undefined, 'no-data'],
    ['data "" (Python, Go)', '', 'empty-data'],
  ])('%s with code 200 counts as success', async (_name, data, variant) => {
    const sandbox = await start(FAST);
    await connect(sandbox, (f) =>
      f.type === 'EVENT' ? { code: 200, headers: headers(f), message: 'OK', data } : undefined,
    );
    const res = await http<{ result: { status: string }; eventId: string }>(
      sandbox,
      'POST',
      '/sandbox/events',
      {
        eventType: 't',
        wait: true,
      },
    );
    expect(res.body.result.status).toBe('acked');
    const [record] = await deliveries(sandbox, `?eventId=${res.body.eventId}`);
    expect(record?.ack).toMatchObject({ variant, code: 200 });
  });

  it('accepts a code sent as a numeric string', async () => {
    const sandbox = await start(FAST);
    await connect(sandbox, (f) =>
      f.type === 'EVENT'
        ? { code: '200', headers: headers(f), message: 'OK', data: JSON.stringify({ status: 'SUCCESS' }) }
        : undefined,
    );
    const res = await http<{ result: { status: string } }>(sandbox, 'POST', '/sandbox/events', {
      eventType: 't',
      wait: true,
    });
    expect(res.body.result.status).toBe('acked');
  });
});

describe('CALLBACK acks', () => {
  it('returns the response of {"response": ...}; {"response": null} and missing data answer null', async () => {
    const sandbox = await start(FAST);
    const answers = [
      JSON.stringify({ response: { text: '晴天' } }),
      JSON.stringify({ response: null }),
      undefined,
    ];
    let i = 0;
    await connect(sandbox, (f) =>
      f.type === 'CALLBACK'
        ? { code: 200, headers: headers(f), message: 'OK', data: answers[i++] }
        : undefined,
    );
    const r1 = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    const r2 = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    const r3 = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    expect(r1).toMatchObject({ status: 'answered', response: { text: '晴天' } });
    expect(r2).toMatchObject({ status: 'answered', response: null });
    expect(r3).toMatchObject({ status: 'answered', response: null });
  });

  it('reports a non-200 ack as clientError (502 on the control API)', async () => {
    const sandbox = await start(FAST);
    await connect(sandbox, (f) =>
      f.type === 'CALLBACK' ? { code: 404, headers: headers(f), message: 'topic not handled' } : undefined,
    );
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ status: 'error', code: 'clientError', ackCode: 404 });
  });
});

describe('malformed and unmatched acks', () => {
  it('logs and records malformed acks, settles the message, and keeps serving', async () => {
    const logs = captureLogs();
    const sandbox = await start({ ...FAST, logger: logs.logger, eventRedelivery: [] });
    const client = await connect(sandbox, (f) =>
      f.type === 'CALLBACK'
        ? { code: 200, headers: headers(f), message: 'OK', data: '{not json' }
        : f.type === 'EVENT'
          ? { code: 'two hundred', headers: headers(f), message: 'OK' }
          : undefined,
    );
    client.send('this is not JSON');
    client.send({ code: 200, message: 'OK' }); // no headers
    client.send(Buffer.from([0xff, 0xfe, 0x00]));
    const cb = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    expect(cb).toMatchObject({ status: 'error', code: 'malformedAck' });
    const ev = await sandbox.gateway.pushEvent({ eventType: 't', data: {} }).done;
    expect(ev.status).toBe('failed');

    const log = await eventually(async () => {
      const list = await deliveries(sandbox);
      return list.filter((d) => d.outcome === 'malformed').length >= 5 ? list : undefined;
    });
    const upstream = log.filter((d) => d.type === 'UPSTREAM');
    expect(upstream.length).toBeGreaterThanOrEqual(3);
    for (const d of upstream) expect(d.ack?.variant).toBe('malformed');
    expect(log.find((d) => d.type === 'CALLBACK')).toMatchObject({
      outcome: 'malformed',
      ack: { variant: 'malformed' },
    });
    expect(log.find((d) => d.type === 'EVENT')).toMatchObject({ outcome: 'malformed' });
    expect(logs.lines.some((l) => l.msg === 'malformed upstream message')).toBe(true);

    // Still serving: a well-formed answer works afterwards.
    client.autoAck = (f) =>
      f.type === 'CALLBACK'
        ? { code: 200, headers: headers(f), message: 'OK', data: JSON.stringify({ response: 1 }) }
        : undefined;
    expect(await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} })).toMatchObject({
      status: 'answered',
      response: 1,
    });
  });

  it('records an ack for an unknown messageId as unmatched', async () => {
    const sandbox = await start(FAST);
    const client = await connect(sandbox, null);
    client.send({
      code: 200,
      headers: { messageId: 'nobody-sent-this', contentType: 'application/json' },
      message: 'OK',
    });
    const list = await eventually(async () => {
      const l = await deliveries(sandbox, '?type=UPSTREAM');
      return l.length > 0 ? l : undefined;
    });
    expect(list[0]).toMatchObject({
      messageId: 'nobody-sent-this',
      outcome: 'unmatched',
      ack: { code: 200 },
    });
  });
});
