import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CONNECTIONS_OPEN_PATH,
  type ConnectionOpenRequest,
  type DownstreamFrame,
  type FrameHeaders,
  type FrameType,
  parseAck,
  parseConnectionOpenRequest,
  serializeDownstreamFrame,
  type UpstreamAck,
} from '@dingtalk-skills/sdk/protocol';
import { WebSocket, WebSocketServer } from 'ws';
import { within } from './wait.js';

/** One `connections/open` call as the gateway saw it. */
export interface OpenRequestRecord {
  at: number;
  headers: IncomingMessage['headers'];
  /** Parsed body; undefined when it did not parse (then `error` says why). */
  body: ConnectionOpenRequest | undefined;
  error: string | undefined;
  /** HTTP status the gateway answered. */
  status: number;
  ticket: string | undefined;
}

/** An ack (or any other message) the client sent, with the socket it came in on. */
export interface ReceivedAck {
  socket: GatewaySocket;
  ack: UpstreamAck;
  raw: string;
  at: number;
}

/** How `connections/open` should fail, when set. */
export interface OpenFailure {
  status: number;
  body?: unknown;
}

export interface TestGatewayOptions {
  clientId?: string;
  clientSecret?: string;
  /** Ticket validity (default 90 s, as DingTalk). */
  ticketTtlMs?: number;
}

let socketSeq = 0;

/** One accepted WebSocket on the gateway side. */
export class GatewaySocket {
  readonly id = ++socketSeq;
  readonly openedAt = Date.now();
  closedAt: number | undefined;
  closeCode: number | undefined;
  /** The gateway sent `disconnect`: nothing more is delivered here. */
  draining = false;
  /** Raw text of every message the client sent on this socket. */
  readonly received: string[] = [];
  readonly closed: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    readonly ticket: string,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number) => {
        this.closedAt = Date.now();
        this.closeCode = code;
        resolve();
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

/**
 * A DingTalk Stream gateway on 127.0.0.1 for tests: `connections/open` over node:http (credentials
 * check, single-use tickets), a real `ws` WebSocketServer behind it, helpers to send frames, collect
 * acks, drop sockets, send `disconnect`, stop answering pings, and count connection attempts.
 *
 * Every change (socket opened/closed, message received) emits `change`, so tests wait on events
 * through {@link waitFor} instead of sleeping.
 */
export class TestGateway extends EventEmitter {
  readonly clientId: string;
  readonly clientSecret: string;
  /** `http://127.0.0.1:<port>`: pass as the client's `apiBase`. */
  apiBase = '';
  /** When set, `connections/open` answers with it. */
  openFailure: OpenFailure | undefined;
  /** When set, WebSocket handshakes are refused with this HTTP status (tickets are still consumed). */
  rejectHandshakesWith: number | undefined;
  /** When false, ws pings from the client get no pong (a dead peer, for the watchdog). */
  answerPongs = true;

  readonly openRequests: OpenRequestRecord[] = [];
  /** Handshake attempts (accepted or not). */
  handshakes = 0;
  readonly rejectedHandshakes: Array<{ ticket: string; status: number }> = [];
  readonly sockets: GatewaySocket[] = [];
  readonly acks: ReceivedAck[] = [];
  /** Messages the client sent that are not acks (should stay empty). */
  readonly unparsed: Array<{ socket: GatewaySocket; raw: string; error: string }> = [];

  private readonly ticketTtlMs: number;
  private readonly tickets = new Map<string, { expiresAt: number; used: boolean }>();
  private readonly pendingDeliveries: string[] = [];
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private seq = 0;
  private rr = 0;

  private constructor(options: TestGatewayOptions) {
    super();
    this.setMaxListeners(0);
    this.clientId = options.clientId ?? 'test-client-id';
    this.clientSecret = options.clientSecret ?? 'test-client-secret-0001';
    this.ticketTtlMs = options.ticketTtlMs ?? 90_000;
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 64 * 1024 * 1024 });
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Starts a gateway on 127.0.0.1 with an OS-chosen port. */
  static async start(options: TestGatewayOptions = {}): Promise<TestGateway> {
    const gw = new TestGateway(options);
    await new Promise<void>((resolve, reject) => {
      gw.http.once('error', reject);
      gw.http.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = gw.http.address() as AddressInfo;
    gw.apiBase = `http://127.0.0.1:${port}`;
    return gw;
  }

  /** Base config for a StreamClient talking to this gateway. */
  clientConfig(): { clientId: string; clientSecret: string; apiBase: string } {
    return { clientId: this.clientId, clientSecret: this.clientSecret, apiBase: this.apiBase };
  }

  /** Sockets currently open. */
  openSockets(): GatewaySocket[] {
    return this.sockets.filter((s) => s.isOpen);
  }

  /** Every ticket issued so far, in order. */
  issuedTickets(): string[] {
    return [...this.tickets.keys()];
  }

  /** WebSocket URL of a ticket (to try one by hand). */
  ticketUrl(ticket: string): string {
    return `${this.apiBase.replace(/^http/, 'ws')}/connect?ticket=${encodeURIComponent(ticket)}`;
  }

  // ---- frames --------------------------------------------------------------------------------------

  nextMessageId(): string {
    return `msg-${++this.seq}`;
  }

  /** A downstream frame; `headers` override the defaults. */
  frame(type: FrameType, topic: string, data: string, headers: Partial<FrameHeaders> = {}): DownstreamFrame {
    const base: FrameHeaders = {
      topic,
      messageId: this.nextMessageId(),
      contentType: 'application/json',
      time: String(Date.now()),
      appId: 'test-app',
    };
    const merged = { ...base, ...headers } as FrameHeaders;
    return { specVersion: '1.0', type, headers: merged, data };
  }

  /** An EVENT frame (topic `*`) with event headers; `eventId` defaults to a fresh id. */
  eventFrame(data: unknown = { hello: 'world' }, headers: Partial<FrameHeaders> = {}): DownstreamFrame {
    return this.frame('EVENT', '*', JSON.stringify(data), {
      eventId: `evt-${randomUUID()}`,
      eventType: 'test_event',
      eventBornTime: String(Date.now()),
      eventCorpId: 'corp-test',
      eventUnifiedAppId: 'unified-test',
      ...headers,
    });
  }

  callbackFrame(topic: string, data: unknown = {}, headers: Partial<FrameHeaders> = {}): DownstreamFrame {
    return this.frame('CALLBACK', topic, JSON.stringify(data), headers);
  }

  pingFrame(opaque = `opaque-${randomUUID()}`): DownstreamFrame {
    return this.frame('SYSTEM', 'ping', JSON.stringify({ opaque }));
  }

  /** Sends a frame (or raw text) on one socket. Returns the message id when it is a frame. */
  send(socket: GatewaySocket, frame: DownstreamFrame | string): string | undefined {
    const text = typeof frame === 'string' ? frame : serializeDownstreamFrame(frame);
    socket.ws.send(text);
    return typeof frame === 'string' ? undefined : frame.headers.messageId;
  }

  /**
   * Delivers a frame like the platform: to one open, non-draining socket (round robin), or queued until
   * one opens. Returns the message id.
   */
  deliver(frame: DownstreamFrame): string {
    const text = serializeDownstreamFrame(frame);
    const target = this.pickDeliverable();
    if (target) target.ws.send(text);
    else this.pendingDeliveries.push(text);
    return frame.headers.messageId;
  }

  /**
   * Sends SYSTEM `disconnect` and stops delivering to that socket at once (as DingTalk may). The socket
   * is closed by the gateway after `closeAfterMs` when given (DingTalk: about 10 s).
   */
  sendDisconnect(socket: GatewaySocket, options: { reason?: string; closeAfterMs?: number } = {}): void {
    socket.draining = true;
    this.send(
      socket,
      this.frame('SYSTEM', 'disconnect', JSON.stringify({ reason: options.reason ?? 'test' })),
    );
    if (options.closeAfterMs !== undefined) {
      const t = setTimeout(() => socket.ws.close(1000, 'disconnect'), options.closeAfterMs);
      socket.closed.then(() => clearTimeout(t));
    }
  }

  /** Destroys a socket's TCP connection without a close frame (an abrupt network drop). */
  drop(socket: GatewaySocket): void {
    socket.ws.terminate();
  }

  // ---- waiting -------------------------------------------------------------------------------------

  /** Resolves with `check()`'s value once it is not undefined, re-checking on every gateway change. */
  async waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
    const first = check();
    if (first !== undefined) return first;
    let listener: (() => void) | undefined;
    const p = new Promise<T>((resolve) => {
      listener = () => {
        const v = check();
        if (v !== undefined) resolve(v);
      };
      this.on('change', listener);
    });
    try {
      return await within(p, timeoutMs, what);
    } finally {
      if (listener) this.off('change', listener);
    }
  }

  /** Waits until `n` sockets are open and returns them. */
  waitForOpenSockets(n: number, timeoutMs = 5_000): Promise<GatewaySocket[]> {
    return this.waitFor(
      () => {
        const open = this.openSockets();
        return open.length >= n ? open : undefined;
      },
      `${n} open socket(s)`,
      timeoutMs,
    );
  }

  /** Waits until `n` sockets have ever been accepted and returns the n-th. */
  waitForSocketNumber(n: number, timeoutMs = 5_000): Promise<GatewaySocket> {
    return this.waitFor(() => this.sockets[n - 1], `socket #${n}`, timeoutMs);
  }

  /** Waits for the ack of `messageId`. */
  waitForAck(messageId: string, timeoutMs = 5_000): Promise<ReceivedAck> {
    return this.waitFor(() => this.ackOf(messageId), `the ack of ${messageId}`, timeoutMs);
  }

  /** The first ack of `messageId`, if any. */
  ackOf(messageId: string): ReceivedAck | undefined {
    return this.acks.find((a) => a.ack.headers.messageId === messageId);
  }

  /** All acks of `messageId`. */
  acksOf(messageId: string): ReceivedAck[] {
    return this.acks.filter((a) => a.ack.headers.messageId === messageId);
  }

  /**
   * Sends a ping on `socket` and waits for its answer. Frames sent before it on the same socket have
   * then been read by the client (a socket is ordered), which makes "no ack for X" assertions sound.
   */
  async roundTrip(socket: GatewaySocket, timeoutMs = 5_000): Promise<void> {
    const id = this.send(socket, this.pingFrame())!;
    await this.waitForAck(id, timeoutMs);
  }

  /** Closes every socket and both servers. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    await Promise.all(this.sockets.map((s) => s.closed));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // ---- HTTP: connections/open ----------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Connection', 'close');
    if (req.method !== 'POST' || req.url !== CONNECTIONS_OPEN_PATH) {
      this.json(res, 404, { code: 'NotFound', message: 'not found', requestid: randomUUID() });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: OpenRequestRecord = {
        at: Date.now(),
        headers: req.headers,
        body: undefined,
        error: undefined,
        status: 0,
        ticket: undefined,
      };
      this.openRequests.push(record);
      const answer = (status: number, body: unknown) => {
        record.status = status;
        this.json(res, status, body);
        this.emit('change');
      };
      if (this.openFailure) {
        answer(
          this.openFailure.status,
          this.openFailure.body ?? { code: 'SystemError', message: 'test failure', requestid: randomUUID() },
        );
        return;
      }
      try {
        record.body = parseConnectionOpenRequest(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        record.error = (err as Error).message;
        answer(400, { code: 'InvalidParameter', message: record.error, requestid: randomUUID() });
        return;
      }
      if (record.body.clientId !== this.clientId || record.body.clientSecret !== this.clientSecret) {
        answer(401, { requestid: randomUUID(), code: 'authFailed', message: '鉴权失败' });
        return;
      }
      const ticket = randomUUID();
      this.tickets.set(ticket, { expiresAt: Date.now() + this.ticketTtlMs, used: false });
      record.ticket = ticket;
      answer(200, { endpoint: `${this.apiBase.replace(/^http/, 'ws')}/connect`, ticket });
    });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  // ---- WebSocket -----------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.handshakes++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    const entry = this.tickets.get(ticket);
    let status = 0;
    if (url.pathname !== '/connect') status = 404;
    else if (!entry || entry.used || entry.expiresAt < Date.now()) status = 401;
    if (entry) entry.used = true; // single use, even when the handshake is then refused
    if (status === 0 && this.rejectHandshakesWith !== undefined) status = this.rejectHandshakesWith;
    if (status !== 0) {
      this.rejectedHandshakes.push({ ticket, status });
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      this.emit('change');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, ticket));
  }

  private onSocket(ws: WebSocket, ticket: string): void {
    const socket = new GatewaySocket(ws, ticket);
    this.sockets.push(socket);
    ws.on('ping', (data: Buffer) => {
      if (this.answerPongs) ws.pong(data);
    });
    ws.on('message', (data: Buffer) => {
      const raw = data.toString('utf8');
      socket.received.push(raw);
      try {
        this.acks.push({ socket, ack: parseAck(raw), raw, at: Date.now() });
      } catch (err) {
        this.unparsed.push({ socket, raw, error: (err as Error).message });
      }
      this.emit('change');
    });
    ws.on('error', () => ws.terminate());
    void socket.closed.then(() => this.emit('change'));
    // Flush what the platform held while no socket was deliverable.
    while (this.pendingDeliveries.length > 0) ws.send(this.pendingDeliveries.shift()!);
    this.emit('change');
  }

  private pickDeliverable(): GatewaySocket | undefined {
    const open = this.sockets.filter((s) => s.isOpen && !s.draining);
    if (open.length === 0) return undefined;
    return open[this.rr++ % open.length];
  }
}
