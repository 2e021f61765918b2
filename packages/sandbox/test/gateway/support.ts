import { createSandbox, type Sandbox, type SandboxOptionsInput, SEED_APP } from '@dingtalk-skills/sandbox';
import { createLogger, type Logger, silentLogger } from '@dingtalk-skills/sdk';
import { type DownstreamFrame, parseDownstreamFrame, type Subscription } from '@dingtalk-skills/sdk/protocol';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';

/** Log lines captured from a real redacting logger. */
export interface LogCapture {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogs(): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level: 'debug',
    secrets: [SEED_APP.clientSecret],
    destination: {
      write(s: string) {
        raw.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, text: () => raw.join('') };
}

/** A sandbox on 127.0.0.1 port 0 with quiet defaults for tests (no pings unless asked). */
export function startSandbox(options: SandboxOptionsInput = {}): Promise<Sandbox> {
  return createSandbox({ logger: silentLogger(), pingIntervalMs: 0, ...options });
}

/** The sandbox and the raw clients of the test that runs: see `sandboxPerTest`. */
export interface SandboxPerTest {
  /** Starts this test's sandbox (as `startSandbox`); it is closed after the test. */
  start(options?: SandboxOptionsInput): Promise<Sandbox>;
  /** Connects a raw client (as `RawClient.connect`); it is closed after the test, before the sandbox. */
  connect(sandbox: Sandbox, options?: Parameters<typeof RawClient.connect>[1]): Promise<RawClient>;
}

/**
 * Registers an `afterEach` that closes the test's raw clients, then its sandbox. Call once at the top of
 * a test file; each test starts its own sandbox with `start`.
 */
export function sandboxPerTest(): SandboxPerTest {
  let sandbox: Sandbox | undefined;
  const clients: RawClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sandbox?.close();
    sandbox = undefined;
  });
  return {
    async start(options) {
      sandbox = await startSandbox(options);
      return sandbox;
    },
    async connect(s, options) {
      const client = await RawClient.connect(s, options);
      clients.push(client);
      return client;
    },
  };
}

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/** A JSON request to the sandbox (control API or gateway). */
export async function http<T = Record<string, unknown>>(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  rawBody?: string,
): Promise<HttpAnswer<T>> {
  // x-sandbox-client: what a script sends on a body-less control API call (the admission asks for it).
  const init: RequestInit = { method, headers: { accept: 'application/json', 'x-sandbox-client': 'test' } };
  if (rawBody !== undefined) {
    init.body = rawBody;
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  const res = await fetch(`${sandbox.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export const ALL_SUBSCRIPTIONS: Subscription[] = [
  { type: 'EVENT', topic: '*' },
  { type: 'CALLBACK', topic: '/v1.0/graph/api/invoke' },
];

export interface OpenOptions {
  clientId?: string;
  clientSecret?: string;
  subscriptions?: Subscription[];
  ua?: string;
  localIp?: string;
}

/** POST connections/open; returns the answer. */
export function openConnection(
  sandbox: Sandbox,
  o: OpenOptions = {},
): Promise<HttpAnswer<{ endpoint: string; ticket: string; code?: string }>> {
  return http(sandbox, 'POST', '/v1.0/gateway/connections/open', {
    clientId: o.clientId ?? SEED_APP.clientId,
    clientSecret: o.clientSecret ?? SEED_APP.clientSecret,
    subscriptions: o.subscriptions ?? ALL_SUBSCRIPTIONS,
    ua: o.ua ?? 'raw-test-client/1.0',
    localIp: o.localIp ?? '10.0.0.5',
  });
}

/** Resolves with the HTTP status of a refused handshake, or 101 when it opened. */
export function handshakeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => reject(err));
  });
}

/** Decides the answer to each received frame: an ack object, raw text, or nothing. */
export type AutoAck = (frame: DownstreamFrame, client: RawClient) => object | string | undefined;

/** Acks like a well-behaved client: SUCCESS for events, `{response}` for callbacks, echo for pings. */
export const standardAck: AutoAck = (frame) => {
  const headers = { messageId: frame.headers.messageId, contentType: 'application/json' };
  if (frame.type === 'EVENT')
    return { code: 200, headers, message: 'OK', data: JSON.stringify({ status: 'SUCCESS', message: 'OK' }) };
  if (frame.type === 'CALLBACK')
    return { code: 200, headers, message: 'OK', data: JSON.stringify({ response: { ok: true } }) };
  if (frame.headers.topic === 'ping') return { code: 200, headers, message: 'OK', data: frame.data };
  return undefined;
};

/**
 * A tiny raw WebSocket client (not the project's StreamClient): opens a ticket, connects, records
 * every frame, and answers with `autoAck`.
 */
export class RawClient {
  readonly ws: WebSocket;
  readonly frames: DownstreamFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  autoAck: AutoAck | undefined;
  #listeners = new Set<() => void>();

  private constructor(ws: WebSocket, autoAck: AutoAck | undefined) {
    this.ws = ws;
    this.autoAck = autoAck;
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      const frame = parseDownstreamFrame(data.toString());
      this.frames.push(frame);
      const answer = this.autoAck?.(frame, this);
      if (answer !== undefined) this.send(answer);
      for (const l of [...this.#listeners]) l();
    });
  }

  static async connect(
    sandbox: Sandbox,
    options: OpenOptions & { autoAck?: AutoAck | null } = {},
  ): Promise<RawClient> {
    const opened = await openConnection(sandbox, options);
    if (opened.status !== 200) throw new Error(`connections/open answered ${opened.status}`);
    const ws = new WebSocket(`${opened.body.endpoint}?ticket=${encodeURIComponent(opened.body.ticket)}`);
    const client = new RawClient(ws, options.autoAck === null ? undefined : (options.autoAck ?? standardAck));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Frames of one type/topic received so far. */
  received(type: DownstreamFrame['type'], topic?: string): DownstreamFrame[] {
    return this.frames.filter((f) => f.type === type && (topic === undefined || f.headers.topic === topic));
  }

  /** Waits until `predicate` holds over the frames received (checked on every frame). */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const value = predicate();
        if (value === undefined || value === false) return false;
        this.#listeners.delete(check);
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`RawClient.waitFor: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  /** The next frame matching `predicate` (already received frames count from index `from`). */
  nextFrame(
    predicate: (f: DownstreamFrame) => boolean,
    timeoutMs = 5_000,
    from = 0,
  ): Promise<DownstreamFrame> {
    return this.waitFor(() => this.frames.slice(from).find(predicate), timeoutMs);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** Polls `read` until it returns a value (for server-side state such as the delivery log). */
export async function eventually<T>(
  read: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`eventually: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
