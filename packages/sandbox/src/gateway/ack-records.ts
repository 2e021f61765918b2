import { isPlainObject, readAckData, type UpstreamAck } from '@dingtalk-skills/sdk/protocol';
import type { AckRecord, AckVariant } from './delivery-log.js';

/** Headers an ack is expected to carry; anything else was echoed from the downstream frame. */
const ACK_HEADERS = new Set(['messageId', 'contentType', 'time']);

/** The shape-level variant of an ack (EVENT-specific `no-status` is decided by the event reader). */
export function ackVariant(ack: UpstreamAck): AckVariant {
  if (ack.code !== 200) return 'error-code';
  if (ack.data === undefined) return 'no-data';
  if (ack.data === '') return 'empty-data';
  for (const key of Object.keys(ack.headers)) if (!ACK_HEADERS.has(key)) return 'echoed-headers';
  return 'standard';
}

/** An AckRecord for a readable ack. */
export function ackRecord(ack: UpstreamAck, receivedAt: number): AckRecord {
  return {
    code: ack.code,
    message: ack.message,
    status: undefined,
    data: ack.data,
    receivedAt,
    variant: ackVariant(ack),
  };
}

/** An AckRecord for an ack that could not be read. */
export function malformedAckRecord(error: string, receivedAt: number, code?: number): AckRecord {
  return {
    code,
    message: undefined,
    status: undefined,
    data: undefined,
    receivedAt,
    variant: 'malformed',
    error,
  };
}

/** True when the ack's data is a JSON object with a string `status` (throws ProtocolError when data is not JSON). */
export function ackHasStatus(ack: UpstreamAck): boolean {
  const data = readAckData(ack);
  return isPlainObject(data) && typeof data.status === 'string';
}
