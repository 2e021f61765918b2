import { describe, expect, it } from 'vitest';
import { eventually, http, sandboxPerTest } from './support.js';

const { start, connect } = sandboxPerTest();

const GRAPH = '/v1.0/graph/api/invoke';

describe('CALLBACK invocation', () => {
  it('times out after callbackTimeoutMs when the client does not answer (504)', async () => {
    const sandbox = await start({ callbackTimeoutMs: 150 });
    const client = await connect(sandbox, { autoAck: null });
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: { q: 1 } });
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ status: 'timeout', timeoutMs: 150 });
    expect(client.received('CALLBACK')).toHaveLength(1);
    expect(sandbox.gateway.stats().pendingAcks).toBe(0);
  });

  it('takes a per-call timeoutMs', async () => {
    const sandbox = await start({ callbackTimeoutMs: 60_000 });
    await connect(sandbox, { autoAck: null });
    const result = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {}, timeoutMs: 50 });
    expect(result).toMatchObject({ status: 'timeout', timeoutMs: 50 });
  });

  it('records an answer that arrives after the timeout as late', async () => {
    const sandbox = await start({ callbackTimeoutMs: 100 });
    const client = await connect(sandbox, { autoAck: null });
    const result = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    expect(result.status).toBe('timeout');
    const frame = client.received('CALLBACK')[0];
    client.send({
      code: 200,
      headers: { messageId: frame?.headers.messageId, contentType: 'application/json' },
      message: 'OK',
      data: JSON.stringify({ response: 'too late' }),
    });
    await eventually(
      () => sandbox.gateway.deliveryLog.find(frame?.headers.messageId ?? '')?.ack?.late === true,
    );
    expect(sandbox.gateway.deliveryLog.find(frame?.headers.messageId ?? '')?.outcome).toBe('timeout');
  });

  it('answers connectionLost (502) when the connection closes before the answer', async () => {
    const sandbox = await start({ callbackTimeoutMs: 5_000 });
    await connect(sandbox, {
      autoAck: (f, c) => {
        if (f.type === 'CALLBACK') c.ws.terminate();
        return undefined;
      },
    });
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ status: 'error', code: 'connectionLost' });
  });

  it('sends rawData exactly as given', async () => {
    const sandbox = await start({ callbackTimeoutMs: 100 });
    const client = await connect(sandbox, { autoAck: null });
    await sandbox.gateway.invokeCallback({ topic: GRAPH, rawData: '{"not":"re-encoded"' });
    // The 100 ms answer deadline can pass before a loaded event loop has read the frame off the socket.
    await client.waitFor(() => client.received('CALLBACK').length === 1);
    expect(client.received('CALLBACK')[0]?.data).toBe('{"not":"re-encoded"');
  });

  it('callbackRedelivery: an unanswered callback is sent again per the schedule (sandbox clock) until answered', async () => {
    const sandbox = await start({ callbackTimeoutMs: 100, callbackRedelivery: [30_000, 90_000, 120_000] });
    let answer = false;
    const client = await connect(sandbox, {
      autoAck: (f) =>
        f.type === 'CALLBACK' && answer
          ? {
              code: 200,
              headers: { messageId: f.headers.messageId, contentType: 'application/json' },
              message: 'OK',
              data: JSON.stringify({ response: { handled: true } }),
            }
          : undefined,
    });
    const first = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: { q: 7 } });
    expect(first.status).toBe(504); // the caller's answer does not wait for redeliveries
    expect(client.received('CALLBACK')).toHaveLength(1);
    const advance = (ms: number) => http(sandbox, 'POST', '/sandbox/clock/advance', { ms });

    await advance(29_000);
    expect(client.received('CALLBACK')).toHaveLength(1);
    await advance(1_000); // attempt 2, still unanswered (times out after 100 ms of real time)
    await client.waitFor(() => client.received('CALLBACK').length === 2);
    const second = client.received('CALLBACK')[1]!;
    await eventually(() => sandbox.gateway.deliveryLog.find(second.headers.messageId)?.outcome === 'timeout');

    answer = true;
    await advance(90_000); // attempt 3 is answered: the schedule ends there
    await client.waitFor(() => client.received('CALLBACK').length === 3);
    const third = client.received('CALLBACK')[2]!;
    await eventually(() => sandbox.gateway.deliveryLog.find(third.headers.messageId)?.outcome === 'answered');
    await advance(600_000);
    expect(client.received('CALLBACK')).toHaveLength(3);

    const frames = client.received('CALLBACK');
    expect(new Set(frames.map((f) => f.data))).toEqual(new Set([JSON.stringify({ q: 7 })]));
    expect(new Set(frames.map((f) => f.headers.messageId)).size).toBe(3);
    expect(frames.map((f) => sandbox.gateway.deliveryLog.find(f.headers.messageId)?.attempt)).toEqual([
      1, 2, 3,
    ]);
    expect(sandbox.gateway.timers.size).toBeLessThanOrEqual(2); // the connection's ping and lifetime
  });

  it('by default an unanswered callback is sent again 20 s, then 60 s later (sandbox clock), then given up', async () => {
    const sandbox = await start({ callbackTimeoutMs: 100 });
    const client = await connect(sandbox, { autoAck: null });
    const advance = (ms: number) => http(sandbox, 'POST', '/sandbox/clock/advance', { ms });
    const timedOut = async (n: number) => {
      await client.waitFor(() => client.received('CALLBACK').length === n);
      const frame = client.received('CALLBACK')[n - 1]!;
      await eventually(
        () => sandbox.gateway.deliveryLog.find(frame.headers.messageId)?.outcome === 'timeout',
      );
    };
    expect((await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: { q: 1 } })).status).toBe(
      504,
    );
    await timedOut(1);
    await advance(19_000);
    expect(client.received('CALLBACK')).toHaveLength(1);
    await advance(1_000);
    await timedOut(2);
    await advance(59_000);
    expect(client.received('CALLBACK')).toHaveLength(2);
    await advance(1_000);
    await timedOut(3);
    await advance(3_600_000);
    expect(client.received('CALLBACK')).toHaveLength(3);
    const frames = client.received('CALLBACK');
    expect(new Set(frames.map((f) => f.data))).toEqual(new Set([JSON.stringify({ q: 1 })]));
    expect(new Set(frames.map((f) => f.headers.messageId)).size).toBe(3);
  });

  it('no redelivery with callbackRedelivery: [], nor for a callback that was answered, nor with redelivery: [] on the call', async () => {
    const plain = await start({ callbackTimeoutMs: 100, callbackRedelivery: [] });
    const silent = await connect(plain, { autoAck: null });
    await http(plain, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    await http(plain, 'POST', '/sandbox/clock/advance', { ms: 3_600_000 });
    expect(silent.received('CALLBACK')).toHaveLength(1);
    await plain.close();

    const scheduled = await start({ callbackTimeoutMs: 100, callbackRedelivery: [10_000] });
    const quiet = await connect(scheduled, { autoAck: null });
    const off = await http(scheduled, 'POST', '/sandbox/callbacks', {
      topic: GRAPH,
      data: {},
      redelivery: [],
    });
    expect(off.status).toBe(504);
    await http(scheduled, 'POST', '/sandbox/clock/advance', { ms: 60_000 });
    expect(quiet.received('CALLBACK')).toHaveLength(1);
    quiet.ws.close();
    await quiet.closed;
    await eventually(() => scheduled.gateway.stats().connections === 0);
    const answering = await connect(scheduled);
    const ok = await http(scheduled, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(ok.status).toBe(200);
    await http(scheduled, 'POST', '/sandbox/clock/advance', { ms: 60_000 });
    expect(answering.received('CALLBACK')).toHaveLength(1);
  });
});
