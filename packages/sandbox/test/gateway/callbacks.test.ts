import { afterEach, describe, expect, it } from 'vitest';
import { eventually, http, RawClient, startSandbox } from './support.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await sandbox?.close();
  sandbox = undefined;
});

const GRAPH = '/v1.0/graph/api/invoke';

describe('CALLBACK invocation', () => {
  it('times out after callbackTimeoutMs when the client does not answer (504)', async () => {
    sandbox = await startSandbox({ callbackTimeoutMs: 150 });
    const client = await RawClient.connect(sandbox, { autoAck: null });
    clients.push(client);
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: { q: 1 } });
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ status: 'timeout', timeoutMs: 150 });
    expect(client.received('CALLBACK')).toHaveLength(1);
    expect(sandbox.gateway.stats().pendingAcks).toBe(0);
  });

  it('takes a per-call timeoutMs', async () => {
    sandbox = await startSandbox({ callbackTimeoutMs: 60_000 });
    clients.push(await RawClient.connect(sandbox, { autoAck: null }));
    const result = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {}, timeoutMs: 50 });
    expect(result).toMatchObject({ status: 'timeout', timeoutMs: 50 });
  });

  it('records an answer that arrives after the timeout as late', async () => {
    sandbox = await startSandbox({ callbackTimeoutMs: 100 });
    const client = await RawClient.connect(sandbox, { autoAck: null });
    clients.push(client);
    const result = await sandbox.gateway.invokeCallback({ topic: GRAPH, data: {} });
    expect(result.status).toBe('timeout');
    const frame = client.received('CALLBACK')[0];
    client.send({
      code: 200,
      headers: { messageId: frame?.headers.messageId, contentType: 'application/json' },
      message: 'OK',
      data: JSON.stringify({ response: 'too late' }),
    });
    await eventually(() => sandbox?.gateway.log.find(frame?.headers.messageId ?? '')?.ack?.late === true);
    expect(sandbox.gateway.log.find(frame?.headers.messageId ?? '')?.outcome).toBe('timeout');
  });

  it('answers connectionLost (502) when the connection closes before the answer', async () => {
    sandbox = await startSandbox({ callbackTimeoutMs: 5_000 });
    const client = await RawClient.connect(sandbox, {
      autoAck: (f, c) => {
        if (f.type === 'CALLBACK') c.ws.terminate();
        return undefined;
      },
    });
    clients.push(client);
    const res = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: GRAPH, data: {} });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ status: 'error', code: 'connectionLost' });
  });

  it('sends rawData exactly as given', async () => {
    sandbox = await startSandbox({ callbackTimeoutMs: 100 });
    const client = await RawClient.connect(sandbox, { autoAck: null });
    clients.push(client);
    await sandbox.gateway.invokeCallback({ topic: GRAPH, rawData: '{"not":"re-encoded"' });
    expect(client.received('CALLBACK')[0]?.data).toBe('{"not":"re-encoded"');
  });
});
