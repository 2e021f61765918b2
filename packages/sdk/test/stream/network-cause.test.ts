/**
 * describeNetworkError names the cause of a failed fetch (undici says only "fetch failed"): each case is a
 * real fetch on loopback or to a reserved name: a closed port, a name that does not resolve, TLS spoken
 * to a plain TCP server, a port fetch refuses.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeNetworkError, networkErrorCode } from '../../src/stream/network-cause.js';

async function failure(url: string): Promise<unknown> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (err) {
    return err;
  }
  throw new Error(`fetch ${url} did not fail`);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let plain: Server;
let plainPort = 0;
const sockets = new Set<Socket>();
beforeAll(async () => {
  // Accepts TCP and answers garbage: a TLS client fails its handshake.
  plain = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((r) => plain.close(() => r()));
});

describe('describeNetworkError', () => {
  it('a closed port: connection refused, ECONNREFUSED, naming host and port', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1.0/gateway/connections/open`;
    const err = await failure(url);
    expect(networkErrorCode(err)).toBe('ECONNREFUSED');
    expect(describeNetworkError(err, url)).toBe(
      `connection refused by 127.0.0.1:${port} (ECONNREFUSED: nothing listens there)`,
    );
  });

  it('a name that does not resolve: DNS lookup failed', async () => {
    const url = 'http://no-such-host.invalid/v1.0/gateway/connections/open';
    const err = await failure(url);
    expect(describeNetworkError(err, url)).toMatch(
      /^DNS lookup of no-such-host\.invalid failed \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)\)$/,
    );
  });

  it('TLS to a server that does not speak it: TLS failed, with the code', async () => {
    const url = `https://127.0.0.1:${plainPort}/`;
    const err = await failure(url);
    expect(describeNetworkError(err, url)).toMatch(
      new RegExp(`^TLS with 127\\.0\\.0\\.1:${plainPort} failed \\((EPROTO|ERR_SSL_[A-Z_]+)`),
    );
  });

  it('no system code: the messages of the cause chain and the URL', async () => {
    const url = 'http://127.0.0.1:9/'; // a port fetch refuses to use
    const err = await failure(url);
    expect(describeNetworkError(err, url)).toBe('fetch failed: bad port (http://127.0.0.1:9/)');
  });
});
