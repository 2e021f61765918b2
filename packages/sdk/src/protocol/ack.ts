import { isPlainObject, type JsonValue, parseJsonText } from './json.js';
import { ProtocolError } from './protocol-error.js';
import { JSON_CONTENT_TYPE } from './topics.js';

/** Status codes of an upstream ack. */
export const AckCode = { OK: 200, BadRequest: 400, NotFound: 404, InternalError: 500 } as const;
export type AckCode = (typeof AckCode)[keyof typeof AckCode] | number;

/** An ack from the client to the gateway: no `type`, correlated by `headers.messageId`. */
export interface UpstreamAck {
  code: number;
  headers: { messageId: string; contentType: string; [name: string]: string };
  message: string;
  /** A JSON document as a string; Java, Python and Go may omit it or send "". */
  data?: string;
}

/** EVENT ack status: SUCCESS, or LATER = failed, deliver again later. */
export type EventStatus = 'SUCCESS' | 'LATER';

/**
 * The ack as JSON text. Acks this client builds (the helpers below: integer code, string fields, the two
 * standard headers) are written from a template, the same text `JSON.stringify` gives for them without
 * walking an object (issue 14: one of these per message); any other ack goes through `JSON.stringify`.
 */
export function serializeAck(ack: UpstreamAck): string {
  const { code, headers, message, data } = ack;
  if (
    !Number.isInteger(code) ||
    typeof message !== 'string' ||
    (data !== undefined && typeof data !== 'string') ||
    !hasStandardHeadersOnly(headers)
  )
    return JSON.stringify(ack);
  const head = `{"code":${code},"headers":{"messageId":${JSON.stringify(headers.messageId)},"contentType":${JSON.stringify(headers.contentType)}},"message":${JSON.stringify(message)}`;
  return data === undefined ? `${head}}` : `${head},"data":${JSON.stringify(data)}}`;
}

/** True when the headers are exactly `messageId` and `contentType`, both strings, in that order. */
function hasStandardHeadersOnly(headers: UpstreamAck['headers']): boolean {
  let n = 0;
  for (const key in headers) {
    if ((n === 0 && key !== 'messageId') || (n === 1 && key !== 'contentType') || n > 1) return false;
    n++;
  }
  return n === 2 && typeof headers.messageId === 'string' && typeof headers.contentType === 'string';
}

function ack(messageId: string, code: number, message: string, data?: string): UpstreamAck {
  const out: UpstreamAck = { code, headers: { messageId, contentType: JSON_CONTENT_TYPE }, message };
  if (data !== undefined) out.data = data;
  return out;
}

/** Ack for an EVENT frame. */
export function eventAck(
  messageId: string,
  status: EventStatus,
  message = status === 'SUCCESS' ? 'OK' : 'later',
): UpstreamAck {
  return ack(messageId, AckCode.OK, 'OK', JSON.stringify({ status, message }));
}

/** Ack for a CALLBACK frame: `data` = `{"response": <result>}`. */
export function callbackAck(messageId: string, response: unknown): UpstreamAck {
  // `{"response": ...}` from a template around the response's own JSON (no wrapper object per message);
  // a value JSON.stringify leaves out (a function, a symbol) falls back to the wrapper, which omits it.
  const json = JSON.stringify(response === undefined ? null : response) as string | undefined;
  const data = json === undefined ? JSON.stringify({ response }) : `{"response":${json}}`;
  return ack(messageId, AckCode.OK, 'OK', data);
}

/** Ack for a SYSTEM ping: the same data (`{"opaque": ...}`) that came in. */
export function pingAck(messageId: string, data: string): UpstreamAck {
  return ack(messageId, AckCode.OK, 'OK', data);
}

/** An error ack (400 bad request, 404 topic not handled, 500 internal error); no data, like Java. */
export function errorAck(messageId: string, code: number, message: string): UpstreamAck {
  return ack(messageId, code, message);
}

/**
 * Parses an upstream ack. Lenient where the official SDKs differ: `data` may be missing, "" or a
 * JSON string; `code` may be a numeric string; extra headers (Node echoes all) are kept.
 */
export function parseAck(text: string): UpstreamAck {
  const doc = parseJsonText(text, 'ack');
  if (!isPlainObject(doc)) throw new ProtocolError('ack', 'a JSON object', doc);
  const headers = doc.headers;
  if (!isPlainObject(headers)) throw new ProtocolError('headers', 'an object', headers);
  const rawId = headers.messageId;
  const messageId = typeof rawId === 'number' ? String(rawId) : rawId;
  if (typeof messageId !== 'string' || messageId === '')
    throw new ProtocolError('headers.messageId', 'a non-empty string', rawId);
  let code = doc.code;
  if (typeof code === 'string' && /^\d{3}$/.test(code)) code = Number(code);
  if (typeof code !== 'number' || !Number.isInteger(code))
    throw new ProtocolError('code', 'an integer status code', doc.code, messageId);
  const outHeaders: UpstreamAck['headers'] = { messageId, contentType: JSON_CONTENT_TYPE };
  for (const key in headers) {
    const v = headers[key];
    if (key !== 'messageId' && (typeof v === 'string' || typeof v === 'number')) outHeaders[key] = String(v);
  }
  const data = doc.data;
  if (data !== undefined && data !== null && typeof data !== 'string')
    throw new ProtocolError('data', 'a string holding JSON', data, messageId);
  const out: UpstreamAck = {
    code,
    headers: outHeaders,
    message: typeof doc.message === 'string' ? doc.message : '',
  };
  if (typeof data === 'string') out.data = data;
  return out;
}

/** How the platform reads an EVENT ack. */
export interface EventAckOutcome {
  status: EventStatus;
  message: string | undefined;
}

/**
 * Reads an EVENT ack the way the platform does. Code 200 with `status: SUCCESS`, or code 200 with no
 * status (Python echoes the event data), is success. `LATER`, or any code other than 200 (Go answers
 * LATER with 500), means deliver again later.
 */
export function readEventAck(ackDoc: UpstreamAck): EventAckOutcome {
  if (ackDoc.code !== AckCode.OK) return { status: 'LATER', message: ackDoc.message };
  const data = readAckData(ackDoc);
  if (isPlainObject(data) && typeof data.status === 'string') {
    return {
      status: data.status.toUpperCase() === 'LATER' ? 'LATER' : 'SUCCESS',
      message: typeof data.message === 'string' ? data.message : undefined,
    };
  }
  return { status: 'SUCCESS', message: undefined };
}

/** The `response` of a CALLBACK ack, or undefined when the ack holds none. */
export function readCallbackResponse(ackDoc: UpstreamAck): JsonValue | undefined {
  const data = readAckData(ackDoc);
  if (isPlainObject(data) && 'response' in data) return data.response as JsonValue;
  return undefined;
}

/** The ack's `data` parsed as JSON; undefined when missing or empty. Throws ProtocolError when not JSON. */
export function readAckData(ackDoc: UpstreamAck): JsonValue | undefined {
  if (ackDoc.data === undefined || ackDoc.data === '') return undefined;
  return parseJsonText(ackDoc.data, 'data', ackDoc.headers.messageId);
}
