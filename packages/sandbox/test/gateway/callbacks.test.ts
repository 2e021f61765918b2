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
    await eventually(() => sandbox.gateway.log.find(frame?.headers.messageId ?? '')?.ack?.late === true);
    expect(sandbox.gateway.log.find(frame?.headers.messageId ?? '')?.outcome).toBe('timeout');
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
    expect(client.received('CALLBACK')[0]?.data).toBe('{"not":"re-encoded"');
  });
});
