import { isPlainObject, parseJsonText } from './json.js';
import { ProtocolError } from './protocol-error.js';
import { FRAME_TYPES, type FrameType, JSON_CONTENT_TYPE, MAX_FRAME_BYTES } from './topics.js';

/**
 * Headers of a downstream frame. Every value is a string on the wire (`time` included).
 * EVENT frames add the `event*` headers.
 */
export interface FrameHeaders {
  topic: string;
  messageId: string;
  contentType: string;
  time?: string;
  appId?: string;
  connectionId?: string;
  eventId?: string;
  eventBornTime?: string;
  eventCorpId?: string;
  eventType?: string;
  eventUnifiedAppId?: string;
  [name: string]: string | undefined;
}

/** A frame from the gateway to the client. `data` is a JSON document held as a string. */
export interface DownstreamFrame {
  specVersion: string;
  type: FrameType;
  headers: FrameHeaders;
  data: string;
}

export interface ParseFrameOptions {
  /** Refuse frames larger than this many bytes (default 256 KiB, the Java SDK's cap). */
  maxBytes?: number;
}

/** Best-effort read of `headers.messageId` from a document that failed validation. */
function salvageMessageId(doc: unknown): string | undefined {
  if (!isPlainObject(doc) || !isPlainObject(doc.headers)) return undefined;
  const id = doc.headers.messageId;
  if (typeof id === 'string' && id.length > 0) return id;
  // The same leniency as parseHeaders: a number or boolean id is the id as a string.
  if ((typeof id === 'number' && Number.isFinite(id)) || typeof id === 'boolean') return String(id);
  return undefined;
}

/**
 * Reads a header map. Values must be strings; numbers and booleans are accepted and turned into
 * strings (the Node, Python and Java SDKs accept them, Go drops such a frame): lenient by design.
 */
function parseHeaders(raw: unknown, path: string, doc: unknown): Record<string, string> {
  if (!isPlainObject(raw))
    throw new ProtocolError(path, 'an object of string values', raw, salvageMessageId(doc));
  // Fast path: every value a string (what the platform sends) -> the parsed object is used as is.
  let allStrings = true;
  for (const key in raw) {
    if (typeof raw[key] !== 'string' || key === '__proto__') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return raw as Record<string, string>;
  const out: Record<string, string> = {};
  for (const key in raw) {
    const value = raw[key];
    if (typeof value === 'string') out[key] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
      out[key] = String(value);
    else if (value !== undefined && value !== null)
      throw new ProtocolError(`${path}.${key}`, 'a string', value, salvageMessageId(doc));
  }
  return out;
}

/**
 * Parses and validates one downstream frame (text of a WebSocket message).
 * Throws ProtocolError naming the field; `err.messageId` is set when the frame's id was readable.
 */
export function parseDownstreamFrame(text: string, options: ParseFrameOptions = {}): DownstreamFrame {
  const maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: only measure when it could be over.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new ProtocolError('frame', `at most ${maxBytes} bytes`, `${Buffer.byteLength(text)} bytes`);
  }
  const doc = parseJsonText(text, 'frame');
  if (!isPlainObject(doc)) throw new ProtocolError('frame', 'a JSON object', doc);
  const headers = parseHeaders(doc.headers, 'headers', doc);
  const messageId = headers.messageId;
  if (messageId === undefined || messageId === '')
    throw new ProtocolError('headers.messageId', 'a non-empty string', doc.headers && headers.messageId);
  const type = doc.type;
  if (typeof type !== 'string' || !FRAME_TYPES.includes(type as FrameType))
    throw new ProtocolError('type', 'one of SYSTEM, EVENT, CALLBACK', type, messageId);
  const topic = headers.topic;
  if (topic === undefined || topic === '')
    throw new ProtocolError('headers.topic', 'a non-empty string', topic, messageId);
  const contentType = headers.contentType ?? JSON_CONTENT_TYPE;
  if (!contentType.toLowerCase().startsWith(JSON_CONTENT_TYPE))
    throw new ProtocolError('headers.contentType', JSON_CONTENT_TYPE, contentType, messageId);
  // specVersion: "1.0" on every frame seen; tolerated when missing.
  const specVersion = doc.specVersion === undefined ? '1.0' : doc.specVersion;
  if (typeof specVersion !== 'string')
    throw new ProtocolError('specVersion', 'a string', specVersion, messageId);
  let data = doc.data;
  if (data === undefined || data === null) data = '';
  if (typeof data !== 'string') throw new ProtocolError('data', 'a string holding JSON', data, messageId);
  return {
    specVersion,
    type: type as FrameType,
    // The headers object is this parse's own (fresh from JSON.parse or copied above): fill, don't copy.
    headers: (headers.contentType === contentType
      ? headers
      : Object.assign(headers, { contentType })) as FrameHeaders,
    data,
  };
}

/** Serializes a downstream frame (used by the sandbox gateway and test gateways). */
export function serializeDownstreamFrame(frame: DownstreamFrame): string {
  return JSON.stringify({
    specVersion: frame.specVersion,
    type: frame.type,
    headers: frame.headers,
    data: frame.data,
  });
}
