import { randomUUID } from 'node:crypto';
import { isPlainObject, readAckData } from '@dingtalk-skills/sdk/protocol';
import { ackRecord, malformedAckRecord } from './ack-records.js';
import type { GatewayConnection } from './connection.js';
import type { GatewayCore } from './core.js';
import { buildFrame, newMessageId } from './frames.js';

/**
 * SYSTEM `ping` every `pingIntervalMs` with `{"opaque": "<uuid>"}`. The ack must echo the opaque;
 * a mismatch is recorded as `error`, a missing ack (after `ackTimeoutMs`) as `timeout`. With
 * `maxMissedPings` > 0 the gateway closes a connection (1001) after that many unanswered pings in a
 * row; by default it never does (the real server's policy is undocumented).
 */
export class Keepalive {
  readonly #core: GatewayCore;

  constructor(core: GatewayCore) {
    this.#core = core;
  }

  start(conn: GatewayConnection): void {
    const interval = this.#core.ctx.options.pingIntervalMs;
    if (interval <= 0) return;
    conn.timers.ping = this.#core.timers.interval(interval, () => this.ping(conn));
  }

  stop(conn: GatewayConnection): void {
    this.#core.timers.clear(conn.timers.ping);
    conn.timers.ping = undefined;
  }

  /** Sends one ping now. Returns its messageId, or undefined when the socket is gone. */
  ping(conn: GatewayConnection): string | undefined {
    const { ctx, pending } = this.#core;
    if (conn.state === 'closed') return undefined;
    const opaque = randomUUID();
    const messageId = newMessageId();
    const frame = buildFrame(
      'SYSTEM',
      { topic: 'ping', messageId, appId: conn.appId, connectionId: conn.id, now: ctx.clock.now() },
      JSON.stringify({ opaque }),
    );
    let record: ReturnType<GatewayCore['send']>;
    try {
      record = this.#core.send(conn, frame);
    } catch (err) {
      ctx.logger.debug({ connectionId: conn.id, err }, 'ping not sent');
      return undefined;
    }
    pending.expect(messageId, conn.id, 'ping', record, ctx.options.ackTimeoutMs, {
      onAck: (ack, rec) => {
        const a = ackRecord(ack, ctx.clock.now());
        rec.ack = a;
        const data = readAckData(ack); // throws ProtocolError when data is not JSON
        const echoed = isPlainObject(data) ? data.opaque : undefined;
        if (echoed === opaque) {
          rec.outcome = 'echoed';
          conn.missedPings = 0;
          return;
        }
        rec.outcome = 'error';
        a.error = `ping ack did not echo the opaque: expected ${JSON.stringify(opaque)}, got ${JSON.stringify(echoed ?? null)}`;
        ctx.logger.warn({ connectionId: conn.id, messageId }, a.error);
      },
      onMalformed: (error, rec) => {
        rec.ack = malformedAckRecord(error, ctx.clock.now());
        rec.outcome = 'malformed';
      },
      onTimeout: (rec) => {
        rec.outcome = 'timeout';
        conn.missedPings++;
        ctx.logger.info(
          { connectionId: conn.id, messageId, missedPings: conn.missedPings },
          'ping not answered in time',
        );
        const max = ctx.options.maxMissedPings;
        if (max > 0 && conn.missedPings >= max && conn.state !== 'closed') {
          ctx.logger.warn(
            { connectionId: conn.id, appId: conn.appId, missedPings: conn.missedPings },
            'closing a connection that left its pings unanswered',
          );
          conn.ws.close(1001, 'ping timeout');
          // A client that ignores pings may ignore the closing handshake too.
          this.#core.timers.timeout(1_000, () => {
            if (conn.state !== 'closed') conn.ws.terminate();
          });
        }
      },
      onLost: (rec) => {
        rec.outcome = 'connectionLost';
      },
    });
    return messageId;
  }
}
