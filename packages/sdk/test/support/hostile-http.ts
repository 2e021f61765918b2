import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for tests, with its base URL and a close that drops open connections. */
export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  server: Server;
  url: string;
}> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function closer(server: Server): () => Promise<void> {
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** Records every request it gets (method, path, headers, body) and answers 200 `{}`. */
export interface RecordingServer extends LoopbackServer {
  hits: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
}

export async function recordingServer(): Promise<RecordingServer> {
  const hits: RecordingServer['hits'] = [];
  const { server, url } = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { url, hits, close: closer(server) };
}

/** Answers every request with `status` and `Location: <target><same path>` (a hostile redirect). */
export async function redirectingServer(target: string, status = 307): Promise<LoopbackServer> {
  const { server, url } = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { location: `${target}${req.url ?? '/'}`, 'content-length': '0' }).end();
    });
  });
  return { url, close: closer(server) };
}

/**
 * Answers every request 200 with an endless-looking JSON body streamed in 64 KiB chunks (no
 * Content-Length), up to `totalBytes`, honouring backpressure. `sent` counts the bytes written before the
 * client closed the connection; `closed` resolves when it did (or the body was complete).
 */
export interface StreamingServer extends LoopbackServer {
  readonly sent: number;
  requests: number;
  /** Resolves once a response ended or its connection closed, with the bytes sent for it. */
  nextFinished(): Promise<{ sent: number; complete: boolean }>;
}

export async function hugeBodyServer(
  totalBytes: number,
  options: { declareLength?: boolean } = {},
): Promise<StreamingServer> {
  const chunk = Buffer.alloc(64 * 1024, 0x20); // spaces: valid JSON whitespace, never a complete value
  let sent = 0;
  let requests = 0;
  const finished: Array<{ sent: number; complete: boolean }> = [];
  const waiters: Array<(v: { sent: number; complete: boolean }) => void> = [];
  const report = (v: { sent: number; complete: boolean }) => {
    const w = waiters.shift();
    if (w) w(v);
    else finished.push(v);
  };
  const { server, url } = await listen((req, res) => {
    requests++;
    req.resume();
    let mine = 0;
    let done = false;
    const finish = (complete: boolean) => {
      if (done) return;
      done = true;
      report({ sent: mine, complete });
    };
    res.on('close', () => finish(false));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.declareLength) headers['content-length'] = String(totalBytes);
    res.writeHead(200, headers);
    const pump = () => {
      while (mine < totalBytes && !res.destroyed) {
        const n = Math.min(chunk.length, totalBytes - mine);
        mine += n;
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) {
        res.end();
        finish(true);
      }
    };
    pump();
  });
  return {
    url,
    get sent() {
      return sent;
    },
    get requests() {
      return requests;
    },
    set requests(v: number) {
      requests = v;
    },
    nextFinished() {
      const v = finished.shift();
      if (v) return Promise.resolve(v);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: closer(server),
  };
}
