/**
 * Issue 11, item 6: a gateway that stops reading (its side of the TCP socket paused) while it keeps
 * sending. Ping answers pile up in the client's send buffer; before, they grew without bound and the
 * watchdog never fired (inbound traffic kept it quiet). Now the send buffer is capped
 * (`sendBuffer.maxBytes`) and a buffer that does not drain for `sendBuffer.stallTimeoutMs` counts as a
 * dead connection: either way the client terminates the socket and reconnects.
 */
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import type { GatewaySocket, TestGateway } from '../support/test-gateway.js';

const fx = streamFixturePerTest();
const MiB = 1024 * 1024;
/** Each ping carries this much opaque data, which the client echoes. */
const BIG = 'x'.repeat(200 * 1024);

/** The gateway stops reading this socket (it can still write). */
function stopReading(sock: GatewaySocket): void {
  (sock.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

/** Sends `n` big pings, yielding between them so the client reads (and answers) as they come. */
async function bigPings(gw: TestGateway, sock: GatewaySocket, n: number): Promise<void> {
  for (let i = 0; i < n && sock.isOpen; i++) {
    gw.send(sock, gw.pingFrame(BIG));
    await new Promise((r) => setImmediate(r));
  }
}

/** Small pings every 50 ms until `stop()`: inbound traffic that keeps the liveness watchdog quiet. */
function keepTalking(gw: TestGateway, sock: GatewaySocket): () => void {
  const t = setInterval(() => {
    if (sock.isOpen) gw.send(sock, gw.pingFrame());
  }, 50);
  return () => clearInterval(t);
}

describe('a gateway that stops reading', () => {
  it('caps the send buffer: past sendBuffer.maxBytes the socket is terminated and the client reconnects', async () => {
    const maxBytes = 2 * MiB;
    const client = fx.client({ sendBuffer: { maxBytes, stallTimeoutMs: 600_000 } });
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const [first] = await gw.waitForOpenSockets(1);
    stopReading(first!);
    const stop = keepTalking(gw, first!);
    try {
      // 80 MiB of echoes: far more than the kernel's socket buffers hold, so the send buffer must grow.
      await bigPings(gw, first!, 400);
      await gw.waitFor(() => gw.openSockets().find((s) => s !== first), 'the reconnect', 20_000);
    } finally {
      stop();
    }
    const [line] = fx.logs.find('send buffer full');
    expect(line).toBeDefined();
    expect(line!.bufferedAmount as number).toBeLessThanOrEqual(maxBytes);
    expect(first!.isOpen).toBe(false);
  });

  it('treats a send buffer that does not drain for sendBuffer.stallTimeoutMs as a dead connection and reconnects', async () => {
    const client = fx.client({ sendBuffer: { maxBytes: 512 * MiB, stallTimeoutMs: 1_000 } });
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const [first] = await gw.waitForOpenSockets(1);
    stopReading(first!);
    const stop = keepTalking(gw, first!);
    try {
      await bigPings(gw, first!, 200); // ~40 MiB of echoes: the kernel buffers fill, the rest waits
      await gw.waitFor(() => gw.openSockets().find((s) => s !== first), 'the reconnect', 20_000);
    } finally {
      stop();
    }
    const [line] = fx.logs.find('send buffer stalled');
    expect(line).toBeDefined();
    expect(line!.bufferedAmount as number).toBeGreaterThan(0);
    expect(fx.logs.find('send buffer full')).toEqual([]);
  });
});
