import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { pingAck, serializeAck, type UpstreamAck } from '../protocol/ack.js';
import type { DownstreamFrame } from '../protocol/frame.js';
import { readDisconnectReason } from '../protocol/system.js';
import { Topic } from '../protocol/topics.js';
import type { RawData, StreamConnection } from './connection.js';

/** Sends an ack on `conn`, the socket its frame came in on; a closed socket is logged, not thrown. */
export function sendAck(conn: StreamConnection, ack: UpstreamAck, log: Logger): void {
  let sent = false;
  try {
    sent = conn.send(serializeAck(ack));
  } catch (err) {
    log.warn(
      { messageId: ack.headers.messageId, connection: conn.id, err: toError(err) },
      'ack could not be sent',
    );
    return;
  }
  if (!sent)
    log.warn(
      { messageId: ack.headers.messageId, connection: conn.id, code: ack.code },
      'ack not sent: its connection is closed (the platform will redeliver)',
    );
}

/** UTF-8 text of a ws message (`toString()` without an encoding argument takes Node's fastest path). */
export function frameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.from(data).toString();
}

/** Answers a SYSTEM frame: ping is echoed, disconnect is told to `onDisconnect`, others are ignored. */
export function answerSystemFrame(
  conn: StreamConnection,
  frame: DownstreamFrame,
  log: Logger,
  onDisconnect: (conn: StreamConnection, reason: string) => void,
): void {
  const { topic, messageId } = frame.headers;
  if (topic === Topic.Ping) {
    sendAck(conn, pingAck(messageId, frame.data), log);
  } else if (topic === Topic.Disconnect) {
    const reason = readDisconnectReason(frame.data);
    log.info({ connection: conn.id, slot: conn.slot, reason }, 'gateway sent disconnect');
    onDisconnect(conn, reason);
  } else {
    log.debug({ topic, messageId, connection: conn.id }, 'unknown SYSTEM topic ignored');
  }
}
