import { MAX_FRAME_BYTES } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { http, sandboxPerTest } from './support.js';

const { start, connect } = sandboxPerTest();

describe('256 KiB frame cap', () => {
  it('refuses an EVENT or CALLBACK whose frame would exceed 256 KiB with 413 and sends nothing', async () => {
    const sandbox = await start({ callbackTimeoutMs: 1_000 });
    const client = await connect(sandbox);
    const big = 'x'.repeat(MAX_FRAME_BYTES);
    const ev = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { big } });
    expect(ev.status).toBe(413);
    expect(ev.body).toMatchObject({ code: 'frameTooLarge' });
    const cb = await http(sandbox, 'POST', '/sandbox/callbacks', {
      topic: '/v1.0/graph/api/invoke',
      data: { big },
    });
    expect(cb.status).toBe(413);
    expect(cb.body).toMatchObject({ status: 'error', code: 'frameTooLarge' });
    const raw = await http(
      sandbox,
      'POST',
      `/sandbox/connections/${sandbox.gateway.listConnections()[0]?.id}/send`,
      {
        text: big + big,
      },
    );
    expect(raw.status).toBe(413);
    expect(client.frames).toHaveLength(0);
    expect(sandbox.gateway.stats()).toMatchObject({ activeEvents: 0, pendingAcks: 0, deliveries: 0 });
  });

  it('delivers a frame just under the cap, and counts bytes as UTF-8', async () => {
    const sandbox = await start();
    const client = await connect(sandbox);
    // 3-byte characters: 80,000 of them are 240,000 bytes, under 262,144.
    const fits = await http<{ result: { status: string } }>(sandbox, 'POST', '/sandbox/events', {
      eventType: 't',
      data: { text: '钉'.repeat(80_000) },
      wait: true,
    });
    expect(fits.status).toBe(200);
    expect(fits.body.result.status).toBe('acked');
    const frame = client.received('EVENT')[0];
    expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    // 90,000 of them (270,000 bytes) do not fit although the string is shorter than 262,144 characters.
    const tooBig = await http(sandbox, 'POST', '/sandbox/events', {
      eventType: 't',
      data: { text: '钉'.repeat(90_000) },
    });
    expect(tooBig.status).toBe(413);
  });

  it('honours a smaller maxFrameBytes', async () => {
    const sandbox = await start({ maxFrameBytes: 1_000 });
    await connect(sandbox);
    const res = await http(sandbox, 'POST', '/sandbox/events', {
      eventType: 't',
      data: { s: 'y'.repeat(1_000) },
    });
    expect(res.status).toBe(413);
  });
});

describe('control API input', () => {
  it('answers 404 JSON for unknown /sandbox paths', async () => {
    const sandbox = await start();
    for (const [method, path] of [
      ['GET', '/sandbox/nope'],
      ['POST', '/sandbox/events/extra'],
      ['DELETE', '/sandbox/connections'],
    ] as const) {
      const res = await http(sandbox, method, path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'notFound' });
    }
  });

  it('answers 400 invalidParameter naming the failing field', async () => {
    const sandbox = await start();
    const missing = await http(sandbox, 'POST', '/sandbox/events', { data: {} });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'invalidParameter', field: 'eventType' });
    const wrongType = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', duplicate: 'yes' });
    expect(wrongType.body).toMatchObject({ code: 'invalidParameter', field: 'duplicate' });
    const extra = await http(sandbox, 'POST', '/sandbox/callbacks', { topic: 't', tpoic: 'typo' });
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({ code: 'invalidParameter' });
    const query = await http(sandbox, 'GET', '/sandbox/deliveries?since=-1');
    expect(query.body).toMatchObject({ code: 'invalidParameter', field: 'since' });
  });

  it('answers 400 invalidJson for a body that is not JSON', async () => {
    const sandbox = await start();
    const res = await http(sandbox, 'POST', '/sandbox/events', undefined, '{"eventType":');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalidJson' });
  });

  it('serves health, apps without secrets, and the clock', async () => {
    const sandbox = await start();
    const health = await http(sandbox, 'GET', '/sandbox/health');
    expect(health.body).toMatchObject({ status: 'ok', url: sandbox.url, gateway: { connections: 0 } });
    const apps = await http<{ apps: Array<Record<string, unknown>> }>(sandbox, 'GET', '/sandbox/apps');
    expect(apps.body.apps).toEqual([
      expect.objectContaining({ clientId: 'dingsandboxapp001', name: 'Sandbox CRM 客户管理' }),
    ]);
    expect(JSON.stringify(apps.body)).not.toContain('sandbox-secret');
    const before = await http<{ offsetMs: number }>(sandbox, 'GET', '/sandbox/clock');
    const after = await http<{ offsetMs: number }>(sandbox, 'POST', '/sandbox/clock/advance', { ms: 60_000 });
    expect(after.body.offsetMs - before.body.offsetMs).toBe(60_000);
  });

  it('pages the delivery log with since, newest last', async () => {
    const sandbox = await start({ deliveryLogSize: 5 });
    await connect(sandbox);
    for (let i = 0; i < 8; i++)
      await sandbox.gateway.invokeCallback({ topic: '/v1.0/graph/api/invoke', data: { i } });
    const all = await http<{ deliveries: Array<{ seq: number }>; lastSeq: number }>(
      sandbox,
      'GET',
      '/sandbox/deliveries',
    );
    expect(all.body.deliveries.map((d) => d.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(all.body.lastSeq).toBe(8);
    const since = await http<{ deliveries: Array<{ seq: number }> }>(
      sandbox,
      'GET',
      '/sandbox/deliveries?since=6',
    );
    expect(since.body.deliveries.map((d) => d.seq)).toEqual([7, 8]);
    const reset = await http(sandbox, 'POST', '/sandbox/gateway/reset', {});
    expect(reset.status).toBe(200);
    const empty = await http<{ deliveries: unknown[] }>(sandbox, 'GET', '/sandbox/deliveries');
    expect(empty.body.deliveries).toHaveLength(0);
  });
});
