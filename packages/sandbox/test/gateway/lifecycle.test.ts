import { createServer } from 'node:net';
import { createSandbox } from '@dingtalk-skills/sandbox';
import { ErrorCode, isCodedError } from '@dingtalk-skills/sdk';
import { describe, expect, it } from 'vitest';
import { http, RawClient, startSandbox } from './support.js';

/** Handles that would keep the process alive (timers, sockets, servers). */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo())
    if (r === 'Timeout' || r.startsWith('TCP')) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('close()', () => {
  it('terminates every socket, settles pending work, clears every timer and closes the server', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const baseline = handles();
    const sandbox = await startSandbox({
      pingIntervalMs: 50,
      ackTimeoutMs: 5_000,
      callbackTimeoutMs: 5_000,
      eventRedelivery: [60_000],
    });
    const silent = await RawClient.connect(sandbox, { autoAck: null });
    const other = await RawClient.connect(sandbox, { autoAck: null });
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {} });
    const callback = sandbox.gateway.invokeCallback({ topic: '/v1.0/graph/api/invoke', data: {} });
    sandbox.gateway.disconnect(sandbox.gateway.listConnections()[0]?.id ?? '');
    await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'delay', delayMs: 60_000 });
    other.send({ code: 200, headers: { messageId: 'x', contentType: 'application/json' }, message: 'OK' });
    const before = sandbox.gateway.stats();
    expect(before.timers).toBeGreaterThan(3);
    expect(before.connections).toBe(2);

    await sandbox.close();

    expect(sandbox.gateway.stats()).toMatchObject({
      connections: 0,
      pendingAcks: 0,
      timers: 0,
      activeEvents: 0,
      tickets: 0,
    });
    expect((await pushed.done).status).toBe('cancelled');
    expect(await callback).toMatchObject({ status: 'error', code: 'connectionLost' });
    expect((await silent.closed).code).toBe(1006);
    expect((await other.closed).code).toBe(1006);
    await new Promise((r) => setTimeout(r, 50));
    // Nothing of the sandbox's is left: no more timers or TCP handles than before it started
    // (the test runner's own timers may have come and gone meanwhile).
    for (const [kind, count] of Object.entries(handles()))
      expect(count).toBeLessThanOrEqual(baseline[kind] ?? 0);
    await expect(fetch(`${sandbox.url}/sandbox/health`)).rejects.toThrow();
    // Idempotent.
    await sandbox.close();
  });

  it('refuses work once closed with a clear error', async () => {
    const sandbox = await startSandbox();
    await sandbox.close();
    expect(() => sandbox.gateway.pushEvent({ eventType: 't' })).toThrow(/closed/);
    expect(await sandbox.gateway.invokeCallback({ topic: 't' })).toMatchObject({ code: 'gatewayClosed' });
  });
});

describe('createSandbox options', () => {
  it('rejects invalid options with ERR_CONFIG naming the field', async () => {
    const attempts = [
      { ticketTtlMs: -1 },
      { apps: [] },
      {
        apps: [
          { clientId: 'a', clientSecret: 's' },
          { clientId: 'a', clientSecret: 't' },
        ],
      },
      { eventRedelivery: ['10s'] },
      { notAnOption: true },
      { ephemeral: true, dbPath: 'sandbox.sqlite' },
    ];
    for (const bad of attempts) {
      const err = await createSandbox(bad as never).catch((e: unknown) => e);
      expect(isCodedError(err, ErrorCode.Config)).toBe(true);
    }
    const err = await createSandbox({ pingIntervalMs: 1.5 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('pingIntervalMs');
  });

  it('fails with a clear error when the port is taken, leaving nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const err = await startSandbox({ port }).catch((e: unknown) => e);
    expect(isCodedError(err, ErrorCode.Config)).toBe(true);
    expect((err as Error).message).toContain(String(port));
    await new Promise((r) => blocker.close(r));
  });
});

describe('benchmark hook', () => {
  it('blasts N frames to one connection and counts their acks', async () => {
    const sandbox = await startSandbox();
    try {
      const client = await RawClient.connect(sandbox);
      const id = sandbox.gateway.listConnections()[0]?.id ?? '';
      const result = await sandbox.gateway.blast(id, { count: 2_000, awaitAcks: true });
      expect(result).toMatchObject({ sent: 2_000, acked: 2_000 });
      expect(client.received('CALLBACK')).toHaveLength(2_000);
      expect(new Set(client.frames.map((f) => f.headers.messageId)).size).toBe(2_000);
      // Blasted frames stay out of the delivery log.
      expect(sandbox.gateway.stats().deliveries).toBe(0);
      const viaHttp = await http<{ sent: number }>(sandbox, 'POST', `/sandbox/connections/${id}/blast`, {
        count: 100,
        type: 'EVENT',
      });
      expect(viaHttp.body.sent).toBe(100);
      await client.waitFor(() => client.received('EVENT').length === 100);
      await client.close();
    } finally {
      await sandbox.close();
    }
  });
});
