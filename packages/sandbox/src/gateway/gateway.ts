import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DownstreamFrame, FrameType } from '@dingtalk-skills/sdk/protocol';
import { WebSocket } from 'ws';
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
import { Handshake, type OpenAnswer } from './handshake.js';
import { Keepalive } from './keepalive.js';
import { PendingAcks } from './pending.js';
import { type ConnectionFilter, ConnectionRegistry } from './registry.js';
import type { TicketGrant } from './tickets.js';
import { TimerSet } from './timers.js';
import { type AckFault, Upstream } from './upstream.js';

/** Reason sent in SYSTEM `disconnect` when a connection reaches its lifetime (as seen in real traffic). */
export const LIFETIME_REASON = 'persistent connection is timeout';

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

const CLOSE_FALLBACK_MS = 2_000;

/**
 * The sandbox's Stream gateway: `connections/open` tickets and the `/connect` WebSocket
 * ({@link Handshake}), delivery of EVENT / CALLBACK / SYSTEM frames with ack tracking
 * ({@link Upstream}), redelivery, keepalive pings, connection lifetime, fault injection and the
 * delivery log.
 */
export class Gateway implements GatewayCore {
  readonly ctx: SandboxContext;
  readonly timers: TimerSet;
  readonly deliveryLog: DeliveryLog;
  readonly pending: PendingAcks;
  readonly #handshake: Handshake;
  readonly #upstream: Upstream;
  readonly #conns: ConnectionRegistry;
  readonly #events: EventDeliveries;
  readonly #callbacks: CallbackInvoker;
  readonly #keepalive: Keepalive;
  readonly #blaster: Blaster;
  #ackFault: AckFault = { mode: 'none' };
  #closing: Promise<void> | undefined;

  constructor(ctx: SandboxContext) {
    this.ctx = ctx;
    this.timers = new TimerSet(ctx.clock);
    this.deliveryLog = new DeliveryLog(ctx.options.deliveryLogSize);
    this.pending = new PendingAcks(this.timers);
    this.#conns = new ConnectionRegistry(this.timers);
    this.#handshake = new Handshake(
      ctx,
      () => this.#closing !== undefined,
      (ws, grant, req) => this.#attach(ws, grant, req),
    );
    this.#events = new EventDeliveries(this);
    this.#callbacks = new CallbackInvoker(this);
    this.#keepalive = new Keepalive(this);
    this.#blaster = new Blaster(this);
    this.#upstream = new Upstream(
      this,
      (messageId) => this.#blaster.onAck(messageId),
      () => this.#ackFault,
    );
  }

  // ---- connections ------------------------------------------------------------------------------

  /** Handles a connections/open body (see {@link Handshake.open}). */
  open(bodyText: string, hostHeader: string | undefined): OpenAnswer {
    return this.#handshake.open(bodyText, hostHeader);
  }

  /** The HTTP server's `upgrade` listener: `/connect?ticket=...` with a valid ticket, else 401/404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#handshake.handleUpgrade(req, socket, head);
  }

  #attach(ws: WebSocket, grant: TicketGrant, req: IncomingMessage): void {
    const { ctx } = this;
    const conn = new GatewayConnection(
      randomUUID(),
      ws,
      grant,
      ctx.clock.now(),
      req.socket.remoteAddress,
      req.socket,
    );
    this.#conns.add(conn);
    ws.on('message', (data, isBinary) => this.#upstream.receive(conn, data, isBinary));
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
    this.#conns.announce(conn);
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
    this.#conns.remove(conn);
    this.pending.lostConnection(conn.id);
    this.ctx.logger.info({ connectionId: conn.id, appId: conn.appId, code }, 'gateway connection closed');
  }

  // ---- GatewayCore ------------------------------------------------------------------------------

  resolveApp(clientId: string | undefined): AppRef {
    const app = clientId === undefined ? this.ctx.options.apps[0] : this.ctx.findApp(clientId);
    if (app === undefined)
      throw new GatewayError(GatewayErrorCode.UnknownApp, `no app with clientId ${clientId}`);
    return app;
  }

  pick(appId: string, type: FrameType, topic: string): GatewayConnection | undefined {
    return this.#conns.pick(appId, type, topic);
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
    return this.deliveryLog.add(record);
  }

  // ---- operations ---------------------------------------------------------------------------------

  /** Open and disconnecting connections, then the last closed ones (newest last). */
  listConnections(options: { includeClosed?: boolean } = {}): ConnectionInfo[] {
    return this.#conns.list(options);
  }

  getConnection(id: string): ConnectionInfo | undefined {
    return this.#conns.info(id);
  }

  /** Resolves with the first open connection matching the filter (already there, or when it arrives). */
  waitForConnection(filter: ConnectionFilter = {}, timeoutMs = 10_000): Promise<ConnectionInfo> {
    const found = this.#conns.find(filter);
    if (found !== undefined) return Promise.resolve(found);
    if (this.#closing)
      return Promise.reject(new GatewayError(GatewayErrorCode.Closed, 'the gateway is closed'));
    return this.#conns.waitFor(filter, timeoutMs);
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
    if (conn === undefined) throw this.#conns.unknown(connectionId);
    if (conn.state === 'open') this.#beginDisconnect(conn, reason);
    return conn.info();
  }

  /** Closes the socket abruptly, without a close frame (a network failure). Resolves once closed. */
  async drop(connectionId: string): Promise<ConnectionInfo> {
    const conn = this.#conns.get(connectionId);
    if (conn === undefined) throw this.#conns.unknown(connectionId);
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
    const record = this.deliveryLog.add({
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
    return this.deliveryLog.since(since, limit);
  }

  /** Cancels pending events, clears the delivery log and the ack fault; optionally drops every connection. */
  async reset(options: { dropConnections?: boolean } = {}): Promise<void> {
    this.#events.cancelAll();
    this.deliveryLog.clear();
    this.#ackFault = { mode: 'none' };
    if (options.dropConnections)
      await Promise.all(this.#conns.all().map((c) => closeSocket(c.ws, () => c.ws.terminate())));
    this.ctx.logger.info({ dropConnections: options.dropConnections === true }, 'gateway reset');
  }

  stats(): GatewayStats {
    return {
      connections: this.#conns.size,
      pendingAcks: this.pending.size,
      timers: this.timers.size,
      activeEvents: this.#events.activeCount,
      heldEvents: this.#events.heldEvents().length,
      tickets: this.#handshake.tickets,
      deliveries: this.deliveryLog.size,
    };
  }

  /** Terminates every socket, settles everything pending, clears all timers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#events.cancelAll();
      this.pending.loseAll();
      this.#blaster.cancelAll();
      this.#conns.failWaiters(new GatewayError(GatewayErrorCode.Closed, 'the gateway closed'));
      this.timers.close();
      await Promise.all(this.#conns.all().map((c) => closeSocket(c.ws, () => c.ws.terminate())));
      await this.#handshake.close();
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

  #liveConn(connectionId: string): GatewayConnection {
    this.#assertOpen();
    return this.#conns.live(connectionId);
  }

  #assertOpen(): void {
    if (this.#closing) throw new GatewayError(GatewayErrorCode.Closed, 'the gateway is closed');
  }
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
