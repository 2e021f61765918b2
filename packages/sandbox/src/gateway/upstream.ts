import { toError } from '@dingtalk-skills/sdk/internal';
import { ProtocolError, parseAck, type UpstreamAck } from '@dingtalk-skills/sdk/protocol';
import type { RawData } from 'ws';
import { ackRecord, malformedAckRecord } from './ack-records.js';
import type { GatewayConnection } from './connection.js';
import type { GatewayCore } from './core.js';

/**
 * Ack fault injection (EVENT and CALLBACK acks only; ping acks are never affected):
 * `withhold` ignores acks as if never received; `delay` processes each ack `delayMs` late.
 */
export type AckFault = { mode: 'none' } | { mode: 'withhold' } | { mode: 'delay'; delayMs: number };

/**
 * What clients send up the gateway socket: acks of EVENT / CALLBACK / SYSTEM / raw frames. Each ack
 * settles its pending delivery (or is recorded as late, unmatched or malformed in the delivery log),
 * with the ack fault applied to EVENT and CALLBACK acks.
 */
export class Upstream {
  readonly #core: GatewayCore;
  /** True when the blast hook owns the messageId (benchmark frames bypass the delivery log). */
  readonly #blastAck: (messageId: string) => boolean;
  readonly #fault: () => AckFault;

  constructor(core: GatewayCore, blastAck: (messageId: string) => boolean, fault: () => AckFault) {
    this.#core = core;
    this.#blastAck = blastAck;
    this.#fault = fault;
  }

  /** The socket's `message` listener. Never throws: a bug here is logged and the gateway keeps serving. */
  receive(conn: GatewayConnection, data: RawData, isBinary: boolean): void {
    const { ctx, pending, timers } = this.#core;
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
      if (isBinary) ctx.logger.debug({ connectionId: conn.id }, 'ack arrived as a binary frame');
      const messageId = ack.headers.messageId;
      if (this.#blastAck(messageId)) return;
      const entry = pending.peek(messageId);
      const fault = this.#fault();
      if (entry !== undefined && (entry.kind === 'event' || entry.kind === 'callback')) {
        if (fault.mode === 'withhold') {
          entry.record.ack = { ...ackRecord(ack, ctx.clock.now()), withheld: true };
          ctx.logger.debug({ messageId }, 'ack withheld (fault injection)');
          return;
        }
        if (fault.mode === 'delay') {
          timers.timeout(fault.delayMs, () => this.#settleAck(conn, ack, fault.delayMs));
          return;
        }
      }
      this.#settleAck(conn, ack);
    } catch (err) {
      // A bug in ack handling must not take the gateway down: log it and keep serving.
      ctx.logger.error({ connectionId: conn.id, err }, 'failed to process an upstream message');
    }
  }

  #settleAck(conn: GatewayConnection, ack: UpstreamAck, delayedMs?: number): void {
    const { ctx, pending, deliveryLog: log } = this.#core;
    const now = ctx.clock.now();
    const messageId = ack.headers.messageId;
    const entry = pending.take(messageId);
    if (entry === undefined) {
      const record = log.find(messageId);
      const a = ackRecord(ack, now);
      if (delayedMs !== undefined) a.delayedMs = delayedMs;
      if (record !== undefined) {
        record.ack = { ...a, late: true };
        ctx.logger.info(
          { messageId, connectionId: conn.id, outcome: record.outcome },
          'ack arrived after its deadline: recorded, not acted on',
        );
        return;
      }
      log.add({
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
      ctx.logger.warn({ messageId, connectionId: conn.id }, 'ack for an unknown messageId');
      return;
    }
    try {
      entry.handler.onAck(ack, entry.record);
    } catch (err) {
      const error = err instanceof ProtocolError ? err.message : toError(err).message;
      ctx.logger.warn({ messageId, connectionId: conn.id, error }, 'malformed ack');
      entry.handler.onMalformed(error, entry.record);
    }
    if (delayedMs !== undefined && entry.record.ack) entry.record.ack.delayedMs = delayedMs;
  }

  #malformed(conn: GatewayConnection, text: string, err: unknown): void {
    const { ctx, pending, deliveryLog: log } = this.#core;
    const now = ctx.clock.now();
    const error = err instanceof ProtocolError ? err.message : toError(err).message;
    const messageId = err instanceof ProtocolError ? err.messageId : undefined;
    ctx.logger.warn(
      { connectionId: conn.id, messageId, error, bytes: text.length },
      'malformed upstream message',
    );
    if (messageId !== undefined) {
      const entry = pending.take(messageId);
      if (entry !== undefined) {
        entry.handler.onMalformed(error, entry.record);
        return;
      }
    }
    log.add({
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
}
