import { isPlainObject, parseJsonObject } from './json.js';
import { ProtocolError } from './protocol-error.js';
import { FRAME_TYPES, type FrameType } from './topics.js';

export const CONNECTIONS_OPEN_PATH = '/v1.0/gateway/connections/open';

export interface Subscription {
  type: FrameType;
  topic: string;
}

/** Body of `POST /v1.0/gateway/connections/open`. */
export interface ConnectionOpenRequest {
  clientId: string;
  clientSecret: string;
  subscriptions: Subscription[];
  /** e.g. `dingtalk-skills-node/0.1.0`. */
  ua?: string;
  /** One or several IPs, comma separated. */
  localIp?: string;
  /** The Go SDK sends a map or null. */
  extras?: Record<string, string> | null;
}

/** Success answer: the WebSocket endpoint and a single-use ticket (valid 90 s). */
export interface ConnectionOpenResponse {
  endpoint: string;
  ticket: string;
}

/** Parses a connections/open body (the gateway side). Throws ProtocolError naming the field. */
export function parseConnectionOpenRequest(text: string): ConnectionOpenRequest {
  const doc = parseJsonObject(text, 'body');
  const clientId = doc.clientId;
  if (typeof clientId !== 'string' || clientId === '')
    throw new ProtocolError('clientId', 'a non-empty string', clientId);
  const clientSecret = doc.clientSecret;
  if (typeof clientSecret !== 'string' || clientSecret === '')
    throw new ProtocolError(
      'clientSecret',
      'a non-empty string',
      clientSecret === undefined ? undefined : '(hidden)',
    );
  const subs = doc.subscriptions;
  if (!Array.isArray(subs) || subs.length === 0)
    throw new ProtocolError('subscriptions', 'a non-empty array of {type, topic}', subs);
  const subscriptions: Subscription[] = subs.map((s, i) => {
    if (!isPlainObject(s)) throw new ProtocolError(`subscriptions[${i}]`, 'an object {type, topic}', s);
    if (typeof s.type !== 'string' || !FRAME_TYPES.includes(s.type as FrameType))
      throw new ProtocolError(`subscriptions[${i}].type`, 'one of EVENT, CALLBACK, SYSTEM', s.type);
    if (typeof s.topic !== 'string' || s.topic === '')
      throw new ProtocolError(`subscriptions[${i}].topic`, 'a non-empty string', s.topic);
    return { type: s.type as FrameType, topic: s.topic };
  });
  const out: ConnectionOpenRequest = { clientId, clientSecret, subscriptions };
  if (typeof doc.ua === 'string') out.ua = doc.ua;
  if (typeof doc.localIp === 'string') out.localIp = doc.localIp;
  if (doc.extras === null) out.extras = null;
  else if (isPlainObject(doc.extras)) {
    out.extras = Object.fromEntries(Object.entries(doc.extras).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

/** Parses the gateway's success answer (the client side). */
export function parseConnectionOpenResponse(value: unknown): ConnectionOpenResponse {
  if (!isPlainObject(value)) throw new ProtocolError('body', 'an object {endpoint, ticket}', value);
  const { endpoint, ticket } = value;
  if (typeof endpoint !== 'string' || !/^wss?:\/\//.test(endpoint))
    throw new ProtocolError('endpoint', 'a ws:// or wss:// URL', endpoint);
  if (typeof ticket !== 'string' || ticket === '')
    throw new ProtocolError('ticket', 'a non-empty string', ticket);
  return { endpoint, ticket };
}

/** The WebSocket URL for an endpoint and ticket. */
export function ticketUrl(open: ConnectionOpenResponse): string {
  const sep = open.endpoint.includes('?') ? '&' : '?';
  return `${open.endpoint}${sep}ticket=${encodeURIComponent(open.ticket)}`;
}
