import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type ConnectionOpenResponse,
  type DownstreamFrame,
  type FrameType,
  type OpenApiErrorBody,
  OpenApiErrorCode,
  openApiError,
  ProtocolError,
  parseAck,
  parseConnectionOpenRequest,
  scrubSecrets,
  toError,
  type UpstreamAck,
} from '@dingtalk-skills/sdk';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { AppRef, SandboxContext } from '../context.js';
import { ackRecord, malformedAckRecord } from './ack-records.js';
import { Blaster, type BlastOptions, type BlastResult } from './blast.js';
import { type CallbackInvocation, CallbackInvoker, type CallbackResult } from './callbacks.js';
import { type ConnectionInfo, GatewayConnection } from './connection.js';
import type { GatewayCore, SendMeta } from './core.js';
import { DeliveryLog, type DeliveryRecord } from './delivery-log.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { EventDeliveries, type EventPush, type PushedEvent } from './events.js';
import { buildFrame, encodeFrame, newMessageId } from './frames.js';
import { Keepalive } from './keepalive.js';
import { PendingAcks } from './pending.js';
import { TicketStore } from './tickets.js';
import { TimerSet } from './timers.js';

/** The path of the gateway's WebSocket endpoint. */
export const CONNECT_PATH = '/connect';

/** Reason sent in SYSTEM `disconnect` when a connection reaches its lifetime (as seen in real traffic). */
export const LIFETIME_REASON = 'persistent connection is timeout';

/**
 * Ack fault injection (EVENT and CALLBACK acks only; ping acks are never affected):
 * `withhold` ignores acks as if never received; `delay` processes each ack `delayMs` late.
 */
export type AckFault = { mode: 'none' } | { mode: 'withhold' } | { mode: 'delay'; delayMs: number };

/** The answer to `POST /v1.0/gateway/connections/open`. */
export interface OpenAnswer {
  status: number;
  body: ConnectionOpenResponse | OpenApiErrorBody;
}

/** Which connection `waitForConnection` waits for. */
export interface ConnectionFilter {
  /** Default: any app. */
  clientId?: string;
  /** With `topic`: the connection must subscribe to it. */
  type?: FrameType;
  topic?: string;
}

/** Counters for health checks and leak tests. */
export interface GatewayStats {
  connections: number;
  pendingAcks: number;
  timers: number;
  activeEvents: number;
  /** EVENTs waiting for a connection of their app. */
  heldEvents: number;
  tickets: number;
  deliveries: number;
}

const CLOSED_KEPT = 100;
const CLOSE_FALLBACK_MS = 2_000;

function requestId(): string {
  return randomUUID().toUpperCase();
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A host header we can put into the endpoint URL (name or IP, optional port). */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The sandbox's Stream gateway: `connections/open` tickets, the `/connect` WebSocket, delivery of
 * EVENT / CALLBACK / SYSTEM frames with ack tracking, redelivery, keepalive pings, connection
 * lifetime, fault injection and the delivery log.
 */
export class Gateway implements GatewayCore {
  readonly ctx: SandboxContext;
  readonly timers: TimerSet;
  readonly log: DeliveryLog;
  readonly pending: PendingAcks;
  readonly #tickets: TicketStore;
  readonly #conns = new Map<string, GatewayConnection>();
  readonly #closedConns: ConnectionInfo[] = [];
  readonly #wss: WebSocketServer;
  readonly #events: EventDeliveries;
  readonly #callbacks: CallbackInvoker;
  readonly #keepalive: Keepalive;
  readonly #blaster: Blaster;
  readonly #waiters = new Set<{ filter: ConnectionFilter; settle: (c: GatewayConnection | Error) => void }>();
  #ackFault: AckFault = { mode: 'none' };
  #closing: Promise<void> | undefined;

  constructor(ctx: SandboxContext) {
    this.ctx = ctx;
    this.timers = new TimerSet(ctx.clock);
    this.log = new DeliveryLog(ctx.options.deliveryLogSize);
    this.pending = new PendingAcks(this.timers);
    this.#tickets = new TicketStore(ctx.clock, ctx.options.ticketTtlMs);
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: ctx.options.maxUpstreamBytes,
    });
    this.#events = new EventDeliveries(this);
    this.#callbacks = new CallbackInvoker(this);
    this.#keepalive = new Keepalive(this);
    this.#blaster = new Blaster(this);
  }

  // ---- connections/open -------------------------------------------------------------------------

  /**
   * Handles a connections/open body. Bad JSON or fields: 400 `invalidParameter`; unknown clientId
   * or wrong secret: 401 `authFailed` "鉴权失败"; success: `{endpoint, ticket}`.
   */
  open(bodyText: string, hostHeader: string | undefined): OpenAnswer {
    const { logger } = this.ctx;
    let req: ReturnType<typeof parseConnectionOpenRequest>;
    try {
      req = parseConnectionOpenRequest(bodyText);
    } catch (err) {
      const message = err instanceof ProtocolError ? err.message : toError(err).message;
      logger.warn({ error: message }, 'connections/open: invalid body');
      return { status: 400, body: openApiError('invalidParameter', message, requestId()) };
    }
    const app = this.#authenticate(req.clientId, req.clientSecret);
    if (app === undefined) {
      logger.warn(
        {
          clientId: req.clientId,
          reason: this.ctx.findApp(req.clientId) ? 'wrong clientSecret' : 'unknown clientId',
        },
        'connections/open: authentication failed',
      );
      return { status: 401, body: openApiError(OpenApiErrorCode.AuthFailed, '鉴权失败', requestId()) };
    }
    if (this.#closing) {
      return { status: 503, body: openApiError('ServiceUnavailable', 'the gateway is closing', requestId()) };
    }
    const ticket = this.#tickets.issue({
      app,
      subscriptions: req.subscriptions,
      ua: req.ua,
      localIp: req.localIp,
    });
    const host =
      hostHeader !== undefined && HOST_HEADER.test(hostHeader) ? hostHeader : new URL(this.ctx.url()).host;
    logger.info(
      { clientId: app.clientId, subscriptions: req.subscriptions, ua: req.ua },
      'connections/open: ticket issued',
    );
    // Behind TLS (`tls` option) the endpoint is wss://, as DingTalk's (wss-open-connection.dingtalk.com:443).
    const scheme = this.ctx.options.tls ? 'wss' : 'ws';
    return { status: 200, body: { endpoint: `${scheme}://${host}${CONNECT_PATH}`, ticket } };
  }

  // ---- WebSocket handshake ----------------------------------------------------------------------

  /** The HTTP server's `upgrade` listener: `/connect?ticket=...` with a valid ticket, else 401/404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger } = this.ctx;
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    if (url.pathname !== CONNECT_PATH) {
      logger.warn({ path: url.pathname }, 'websocket upgrade on an unknown path');
      rejectUpgrade(socket, 404, { code: 'NotFound', message: `no WebSocket endpoint at ${url.pathname}` });
      return;
    }
    if (this.#closing) {
      rejectUpgrade(socket, 503, { code: 'ServiceUnavailable', message: 'the gateway is closing' });
      return;
    }
    const redeemed = this.#tickets.redeem(url.searchParams.get('ticket'));
    if (!redeemed.ok) {
      const why = {
        missing: 'no ticket',
        unknown: 'unknown ticket',
        used: 'ticket already used',
        expired: 'ticket expired',
      }[redeemed.reason];
      logger.warn({ reason: why, url: scrubSecrets(req.url ?? '', []) }, 'websocket handshake refused');
      rejectUpgrade(socket, 401, { code: OpenApiErrorCode.AuthFailed, message: why });
      return;
    }
    const grant = redeemed.grant;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closing) {
        ws.terminate();
        return;
      }
      this.#attach(ws, grant, req);
    });
  }

  #attach(ws: WebSocket, grant: GatewayConnection['grant'], req: IncomingMessage): void {
    const { ctx } = this;
    const conn = new GatewayConnection(
      randomUUID(),
      ws,
      grant,
      ctx.clock.now(),
      req.socket.remoteAddress,
      req.socket,
    );
    this.#conns.set(conn.id, conn);
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
    ws.on('error', (err) => ctx.logger.warn({ connectionId: conn.id, err }, 'gateway socket error'));
    ws.on('close', (code) => this.#onClose(conn, code));
    this.#keepalive.start(conn);
    const lifetime = ctx.options.connectionLifetimeMs;
    if (lifetime > 0)
      conn.timers.lifetime = this.timers.timeout(lifetime, () => {
        conn.timers.lifetime = undefined;
        if (conn.state === 'open') this.#beginDisconnect(conn, LIFETIME_REASON);
      });
    ctx.logger.info(
      {
        connectionId: conn.id,
        appId: conn.appId,
        subscriptions: grant.subscriptions,
        ua: grant.ua,
        localIp: grant.localIp,
      },
      'gateway connection opened',
    );
    for (const w of [...this.#waiters]) if (matches(conn, w.filter)) w.settle(conn);
    // EVENTs pushed while the app had no live connection go out now (oldest first).
    if (conn.subscribes('EVENT', '*')) this.#events.releaseHeld(conn.appId);
  }

  #onClose(conn: GatewayConnection, code: number): void {
    conn.state = 'closed';
    conn.closedAt = this.ctx.clock.now();
    conn.closeCode = code;
    this.#keepalive.stop(conn);
    for (const t of [conn.timers.lifetime, conn.timers.grace, conn.timers.closeFallback])
      this.timers.clear(t);
    conn.timers.lifetime = conn.timers.grace = conn.timers.closeFallback = undefined;
    this.#conns.delete(conn.id);
    this.#closedConns.push(conn.info());
    if (this.#closedConns.length > CLOSED_KEPT) this.#closedConns.shift();
    this.pending.lostConnection(conn.id);
    this.ctx.logger.info({ connectionId: conn.id, appId: conn.appId, code }, 'gateway connection closed');
  }

  // ---- upstream messages (acks) -----------------------------------------------------------------

  #onMessage(conn: GatewayConnection, data: RawData, isBinary: boolean): void {
    conn.messagesReceived++;
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    try {
      let ack: UpstreamAck;
      try {
        ack = parseAck(text);
      } catch (err) {
        this.#malformed(conn, text, err);
        return;
      }
      if (isBinary) this.ctx.logger.debug({ connectionId: conn.id }, 'ack arrived as a binary frame');
      const messageId = ack.headers.messageId;
      if (this.#blaster.onAck(messageId)) return;
      const entry = this.pending.peek(messageId);
      const fault = this.#ackFault;
      if (entry !== undefined && (entry.kind === 'event' || entry.kind === 'callback')) {
        if (fault.mode === 'withhold') {
          entry.record.ack = { ...ackRecord(ack, this.ctx.clock.now()), withheld: true };
          this.ctx.logger.debug({ messageId }, 'ack withheld (fault injection)');
          return;
        }
        if (fault.mode === 'delay') {
          this.timers.timeout(fault.delayMs, () => this.#settleAck(conn, ack, fault.delayMs));
          return;
        }
      }
      this.#settleAck(conn, ack);
    } catch (err) {
      // A bug in ack handling must not take the gateway down: log it and keep serving.
      this.ctx.logger.error({ connectionId: conn.id, err }, 'failed to process an upstream message');
    }
  }

  #settleAck(conn: GatewayConnection, ack: UpstreamAck, delayedMs?: number): void {
    const now = this.ctx.clock.now();
    const messageId = ack.headers.messageId;
    const entry = this.pending.take(messageId);
    if (entry === undefined) {
      const record = this.log.find(messageId);
      const a = ackRecord(ack, now);
      if (delayedMs !== undefined) a.delayedMs = delayedMs;
      if (record !== undefined) {
        record.ack = { ...a, late: true };
        this.ctx.logger.info(
          { messageId, connectionId: conn.id, outcome: record.outcome },
          'ack arrived after its deadline: recorded, not acted on',
        );
        return;
      }
      this.log.add({
        type: 'UPSTREAM',
        topic: '',
        messageId,
        appId: conn.appId,
        connectionId: conn.id,
        attempt: 0,
        sentAt: now,
        bytes: 0,
        outcome: 'unmatched',
        ack: a,
      });
      this.ctx.logger.warn({ messageId, connectionId: conn.id }, 'ack for an unknown messageId');
      return;
    }
    try {
      entry.handler.onAck(ack, entry.record);
    } catch (err) {
      const error = err instanceof ProtocolError ? err.message : toError(err).message;
      this.ctx.logger.warn({ messageId, connectionId: conn.id, error }, 'malformed ack');
      entry.handler.onMalformed(error, entry.record);
    }
    if (delayedMs !== undefined && entry.record.ack) entry.record.ack.delayedMs = delayedMs;
  }

  #malformed(conn: GatewayConnection, text: string, err: unknown): void {
    const now = this.ctx.clock.now();
    const error = err instanceof ProtocolError ? err.message : toError(err).message;
    const messageId = err instanceof ProtocolError ? err.messageId : undefined;
    this.ctx.logger.warn(
      { connectionId: conn.id, messageId, error, bytes: text.length },
      'malformed upstream message',
    );
    if (messageId !== undefined) {
      const entry = this.pending.take(messageId);
      if (entry !== undefined) {
        entry.handler.onMalformed(error, entry.record);
        return;
      }
    }
    this.log.add({
      type: 'UPSTREAM',
      topic: '',
      messageId: messageId ?? '',
      appId: conn.appId,
      connectionId: conn.id,
      attempt: 0,
      sentAt: now,
      bytes: Buffer.byteLength(text),
      outcome: 'malformed',
      ack: malformedAckRecord(error, now),
    });
  }

  // ---- GatewayCore ------------------------------------------------------------------------------

  resolveApp(clientId: string | undefined): AppRef {
    const app = clientId === undefined ? this.ctx.options.apps[0] : this.ctx.findApp(clientId);
    if (app === undefined)
      throw new GatewayError(GatewayErrorCode.UnknownApp, `no app with clientId ${clientId}`);
    return app;
  }

  pick(appId: string, type: FrameType, topic: string): GatewayConnection | undefined {
    // Reservoir sampling: each eligible connection is chosen with equal probability.
    let chosen: GatewayConnection | undefined;
    let seen = 0;
    for (const c of this.#conns.values()) {
      if (c.appId !== appId || !c.live || !c.subscribes(type, topic)) continue;
      seen++;
      if (Math.random() * seen < 1) chosen = c;
    }
    return chosen;
  }

  send(conn: GatewayConnection, frame: DownstreamFrame, meta: SendMeta = {}): DeliveryRecord {
    const encoded = encodeFrame(frame, this.ctx.options.maxFrameBytes);
    if (!conn.send(encoded.text))
      throw new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${conn.id} is not open`);
    const record: Omit<DeliveryRecord, 'seq'> = {
      type: frame.type,
      topic: frame.headers.topic,
      messageId: frame.headers.messageId,
      appId: conn.appId,
      connectionId: conn.id,
      attempt: meta.attempt ?? 1,
      sentAt: this.ctx.clock.now(),
      bytes: encoded.bytes,
      outcome: 'pending',
    };
    if (frame.headers.eventId !== undefined) record.eventId = frame.headers.eventId;
    if (meta.duplicate) record.duplicate = true;
    if (meta.heldSince !== undefined) {
      record.heldSince = meta.heldSince;
      record.heldMs = record.sentAt - meta.heldSince;
    }
    return this.log.add(record);
  }

  // ---- operations ---------------------------------------------------------------------------------

  /** Open and disconnecting connections, then the last closed ones (newest last). */
  listConnections(options: { includeClosed?: boolean } = {}): ConnectionInfo[] {
    const live = [...this.#conns.values()].map((c) => c.info());
    return options.includeClosed === false ? live : [...this.#closedConns, ...live];
  }

  getConnection(id: string): ConnectionInfo | undefined {
    return this.#conns.get(id)?.info() ?? this.#closedConns.find((c) => c.id === id);
  }

  /** Resolves with the first open connection matching the filter (already there, or when it arrives). */
  waitForConnection(filter: ConnectionFilter = {}, timeoutMs = 10_000): Promise<ConnectionInfo> {
    for (const c of this.#conns.values()) if (c.live && matches(c, filter)) return Promise.resolve(c.info());
    if (this.#closing)
      return Promise.reject(new GatewayError(GatewayErrorCode.Closed, 'the gateway is closed'));
    return new Promise<ConnectionInfo>((resolve, reject) => {
      const waiter = {
        filter,
        settle: (c: GatewayConnection | Error) => {
          this.#waiters.delete(waiter);
          this.timers.clear(timer);
          if (c instanceof Error) reject(c);
          else resolve(c.info());
        },
      };
      const timer = this.timers.timeout(timeoutMs, () =>
        waiter.settle(
          new GatewayError(
            GatewayErrorCode.NoSubscriber,
            `no connection matching ${JSON.stringify(filter)} within ${timeoutMs} ms`,
          ),
        ),
      );
      this.#waiters.add(waiter);
    });
  }

  /** Pushes an EVENT (see {@link EventDeliveries.push}). */
  pushEvent(input: EventPush): PushedEvent {
    this.#assertOpen();
    return this.#events.push(input);
  }

  /** EVENTs held while their app has no live connection (oldest first). */
  heldEvents(appId?: string): ReturnType<EventDeliveries['heldEvents']> {
    return this.#events.heldEvents(appId);
  }

  /** Sends a CALLBACK and awaits its answer; never rejects. */
  invokeCallback(input: CallbackInvocation): Promise<CallbackResult> {
    if (this.#closing)
      return Promise.resolve({ status: 'error', code: 'gatewayClosed', message: 'the gateway is closed' });
    return this.#callbacks.invoke(input);
  }

  /** Sends a SYSTEM ping now; returns its messageId. */
  ping(connectionId: string): string {
    const conn = this.#liveConn(connectionId);
    const id = this.#keepalive.ping(conn);
    if (id === undefined)
      throw new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${connectionId} is not open`);
    return id;
  }

  /**
   * Sends SYSTEM `disconnect` now; delivery to the connection stops at once and the socket closes
   * `disconnectGraceMs` later. Idempotent while disconnecting.
   */
  disconnect(connectionId: string, reason = LIFETIME_REASON): ConnectionInfo {
    const conn = this.#conns.get(connectionId);
    if (conn === undefined) throw this.#unknown(connectionId);
    if (conn.state === 'open') this.#beginDisconnect(conn, reason);
    return conn.info();
  }

  /** Closes the socket abruptly, without a close frame (a network failure). Resolves once closed. */
  async drop(connectionId: string): Promise<ConnectionInfo> {
    const conn = this.#conns.get(connectionId);
    if (conn === undefined) throw this.#unknown(connectionId);
    await closeSocket(conn.ws, () => conn.ws.terminate());
    this.ctx.logger.info({ connectionId }, 'gateway connection dropped (fault injection)');
    return conn.info();
  }

  /**
   * Sends any text as one WebSocket message (to test how clients treat odd frames). When the text
   * holds a `headers.messageId`, the client's answer is recorded on the entry.
   */
  sendRaw(connectionId: string, text: string): DeliveryRecord {
    const conn = this.#liveConn(connectionId);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.ctx.options.maxFrameBytes)
      throw new GatewayError(
        GatewayErrorCode.FrameTooLarge,
        `the frame would be ${bytes} bytes; the gateway sends at most ${this.ctx.options.maxFrameBytes} bytes per frame`,
      );
    const messageId = salvageMessageId(text);
    if (!conn.send(text))
      throw new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${connectionId} is not open`);
    const record = this.log.add({
      type: 'RAW',
      topic: '',
      messageId: messageId ?? `raw-${newMessageId()}`,
      appId: conn.appId,
      connectionId,
      attempt: 1,
      sentAt: this.ctx.clock.now(),
      bytes,
      outcome: messageId === undefined ? 'sent' : 'pending',
    });
    if (messageId !== undefined)
      this.pending.expect(messageId, connectionId, 'raw', record, this.ctx.options.ackTimeoutMs, {
        onAck: (ack, rec) => {
          rec.ack = ackRecord(ack, this.ctx.clock.now());
          rec.outcome = ack.code === 200 ? 'acked' : 'error';
        },
        onMalformed: (error, rec) => {
          rec.ack = malformedAckRecord(error, this.ctx.clock.now());
          rec.outcome = 'malformed';
        },
        onTimeout: (rec) => {
          rec.outcome = 'timeout';
        },
        onLost: (rec) => {
          rec.outcome = 'connectionLost';
        },
      });
    return record;
  }

  /** Benchmark hook: N frames as fast as the socket takes them, to one connection. */
  blast(connectionId: string, options: BlastOptions): Promise<BlastResult> {
    return this.#blaster.blast(this.#liveConn(connectionId), options);
  }

  get ackFault(): AckFault {
    return this.#ackFault;
  }

  setAckFault(fault: AckFault): void {
    this.#ackFault = fault;
    this.ctx.logger.info({ fault }, 'ack fault set');
  }

  /** Delivery log entries after `since` (seq), newest last. */
  deliveries(since = 0, limit?: number): DeliveryRecord[] {
    return this.log.since(since, limit);
  }

  /** Cancels pending events, clears the delivery log and the ack fault; optionally drops every connection. */
  async reset(options: { dropConnections?: boolean } = {}): Promise<void> {
    this.#events.cancelAll();
    this.log.clear();
    this.#ackFault = { mode: 'none' };
    if (options.dropConnections)
      await Promise.all([...this.#conns.values()].map((c) => closeSocket(c.ws, () => c.ws.terminate())));
    this.ctx.logger.info({ dropConnections: options.dropConnections === true }, 'gateway reset');
  }

  stats(): GatewayStats {
    return {
      connections: this.#conns.size,
      pendingAcks: this.pending.size,
      timers: this.timers.size,
      activeEvents: this.#events.activeCount,
      heldEvents: this.#events.heldEvents().length,
      tickets: this.#tickets.size,
      deliveries: this.log.size,
    };
  }

  /** Terminates every socket, settles everything pending, clears all timers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#events.cancelAll();
      this.pending.loseAll();
      this.#blaster.cancelAll();
      for (const w of [...this.#waiters])
        w.settle(new GatewayError(GatewayErrorCode.Closed, 'the gateway closed'));
      this.timers.close();
      await Promise.all([...this.#conns.values()].map((c) => closeSocket(c.ws, () => c.ws.terminate())));
      this.#tickets.clear();
      await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    })();
    return this.#closing;
  }

  // ---- internals ------------------------------------------------------------------------------------

  #beginDisconnect(conn: GatewayConnection, reason: string): void {
    const { ctx } = this;
    conn.state = 'disconnecting';
    conn.disconnectReason = reason;
    this.timers.clear(conn.timers.lifetime);
    conn.timers.lifetime = undefined;
    const messageId = newMessageId();
    const frame = buildFrame(
      'SYSTEM',
      { topic: 'disconnect', messageId, appId: conn.appId, connectionId: conn.id, now: ctx.clock.now() },
      JSON.stringify({ reason }),
    );
    try {
      const record = this.send(conn, frame);
      record.outcome = 'sent';
      this.pending.expect(messageId, conn.id, 'system', record, ctx.options.disconnectGraceMs + 1, {
        onAck: (ack, rec) => {
          rec.ack = ackRecord(ack, ctx.clock.now());
          rec.outcome = 'acked';
        },
        onMalformed: (error, rec) => {
          rec.ack = malformedAckRecord(error, ctx.clock.now());
        },
        onTimeout: () => undefined,
        onLost: () => undefined,
      });
    } catch (err) {
      ctx.logger.debug({ connectionId: conn.id, err }, 'disconnect frame not sent');
    }
    ctx.logger.info({ connectionId: conn.id, reason }, 'gateway connection disconnecting');
    conn.timers.grace = this.timers.timeout(ctx.options.disconnectGraceMs, () => {
      conn.timers.grace = undefined;
      if (conn.ws.readyState === WebSocket.CLOSED) return;
      conn.ws.close(1000, 'disconnect');
      conn.timers.closeFallback = this.timers.timeout(CLOSE_FALLBACK_MS, () => {
        conn.timers.closeFallback = undefined;
        conn.ws.terminate();
      });
    });
  }

  #authenticate(clientId: string, clientSecret: string): AppRef | undefined {
    if (this.ctx.authenticateApp) return this.ctx.authenticateApp(clientId, clientSecret);
    const app = this.ctx.options.apps.find((a) => a.clientId === clientId);
    return app && sameSecret(app.clientSecret, clientSecret) ? app : undefined;
  }

  #liveConn(connectionId: string): GatewayConnection {
    this.#assertOpen();
    const conn = this.#conns.get(connectionId);
    if (conn === undefined) throw this.#unknown(connectionId);
    if (!conn.live)
      throw new GatewayError(
        GatewayErrorCode.ConnectionNotOpen,
        `connection ${connectionId} is ${conn.state}`,
      );
    return conn;
  }

  #unknown(connectionId: string): GatewayError {
    const closed = this.#closedConns.some((c) => c.id === connectionId);
    return closed
      ? new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${connectionId} is closed`)
      : new GatewayError(GatewayErrorCode.UnknownConnection, `no connection ${connectionId}`);
  }

  #assertOpen(): void {
    if (this.#closing) throw new GatewayError(GatewayErrorCode.Closed, 'the gateway is closed');
  }
}

function matches(conn: GatewayConnection, filter: ConnectionFilter): boolean {
  if (filter.clientId !== undefined && conn.appId !== filter.clientId) return false;
  if (filter.topic !== undefined && !conn.subscribes(filter.type ?? 'CALLBACK', filter.topic)) return false;
  return true;
}

/** Runs `close` and resolves when the socket has emitted `close`. */
function closeSocket(ws: WebSocket, close: () => void): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    close();
  });
}

function salvageMessageId(text: string): string | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== 'object' || doc === null) return undefined;
    const headers = (doc as { headers?: unknown }).headers;
    if (typeof headers !== 'object' || headers === null) return undefined;
    const id = (headers as { messageId?: unknown }).messageId;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    // Raw frames are often deliberately broken JSON: then no ack is expected.
    return undefined;
  }
}

/** Answers a refused WebSocket handshake with a complete HTTP response, then closes the socket. */
/** Answers a WebSocket handshake with an HTTP error and a DingTalk-style JSON body, then closes. */
export function rejectUpgrade(socket: Duplex, status: number, body: { code: string; message: string }): void {
  const text = JSON.stringify({ requestid: requestId(), ...body });
  const reason =
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ??
    'Error';
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}
