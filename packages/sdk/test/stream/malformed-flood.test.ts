import type { StreamClient } from '@dingtalk-skills/sdk';
import { Topic } from '@dingtalk-skills/sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamFixture, streamFixture } from '../support/stream-fixture.js';
import type { GatewaySocket } from '../support/test-gateway.js';

let fx: StreamFixture;
let sock: GatewaySocket;
let client: StreamClient;

beforeAll(async () => {
  fx = await streamFixture();
  client = fx.client({ malformedFrameLog: { burst: 5, perSecond: 1 } });
  client.onCallback(Topic.BotMessage, () => null);
  await client.start();
  [sock] = (await fx.gateway.waitForOpenSockets(1)) as [GatewaySocket];
});
afterAll(async () => {
  await fx.close();
});

/** A frame with a messageId but an unknown type: answered 400 and logged as malformed. */
const badFrame = (id: string) =>
  JSON.stringify({
    specVersion: '1.0',
    type: 'PUSH',
    headers: { topic: '*', messageId: id, contentType: 'application/json' },
    data: '{}',
  });

describe('a flood of malformed frames', () => {
  it('answers every one 400, logs a bounded number of lines, and the next line says how many were left out', async () => {
    const gw = fx.gateway;
    const N = 500;
    for (let i = 0; i < N; i++) gw.send(sock, badFrame(`flood-${i}`));
    await gw.roundTrip(sock);
    const answered = gw.acks.filter((a) => a.ack.headers.messageId.startsWith('flood-'));
    expect(answered).toHaveLength(N);
    expect(new Set(answered.map((a) => a.ack.code))).toEqual(new Set([400]));

    const lines = fx.logs.find('malformed frame');
    // 5 at once (this client's burst), plus at most one a second while the flood was read.
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.length).toBeLessThan(25);
    const reported = lines.reduce((n, l) => n + ((l.suppressed as number | undefined) ?? 0), 0);

    // Once the budget refills, the next malformed frame is logged with the count of those left out.
    await new Promise((r) => setTimeout(r, 1_100));
    gw.send(sock, badFrame('after-flood'));
    await gw.waitForAck('after-flood');
    const last = fx.logs.find('malformed frame').at(-1)!;
    expect(last.messageId).toBe('after-flood');
    const total = reported + ((last.suppressed as number | undefined) ?? 0);
    // Every frame was either logged or counted as left out.
    expect(total + lines.length + 1).toBe(N + 1);
    expect(total).toBeGreaterThan(N - 25);
    const withCount = fx.logs.find('malformed frame').filter((l) => l.suppressed !== undefined);
    expect(withCount.length).toBeGreaterThan(0);
    // The message stays the same (alerts match on it); the count is a field of its own.
    for (const l of withCount) expect(l.msg).toBe('malformed frame answered 400');
    expect(sock.isOpen).toBe(true);
  });

  it('stop() logs the count of malformed frames that no line reported yet', async () => {
    const gw = fx.gateway;
    for (let i = 0; i < 30; i++) gw.send(sock, badFrame(`tail-${i}`));
    await gw.roundTrip(sock);
    const logged = fx.logs
      .find('malformed frame answered 400')
      .filter((l) => String(l.messageId).startsWith('tail-')).length;
    await client.stop();
    const final = fx.logs.find('were not logged');
    expect(final).toHaveLength(1);
    expect(final[0]!.suppressed).toBe(30 - logged);
  });
});
