import { isPlainObject, type JsonObject, parseJsonObject, requireJsonDepth } from './json.js';
import { ProtocolError } from './protocol-error.js';

export const GRAPH_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
export type GraphMethod = (typeof GRAPH_METHODS)[number];

/** The HTTP request that a `/v1.0/graph/api/invoke` CALLBACK carries in its `data`. */
export interface GraphRequest {
  requestLine: { method: GraphMethod; uri: string };
  /** Header names lower case. `x-ability-key`, `x-plugin-id`, `x-plugin-version` for AI plugin actions. */
  headers: Record<string, string>;
  /** The JSON request body as a string ("" when none). */
  body: string;
}

/** The answer, sent as `{"response": GraphResponse}` in the ack's data. */
export interface GraphResponse {
  statusLine: { code: number; reasonPhrase: string };
  headers: Record<string, string>;
  body: string;
}

/** A Graph request's URI split into a path and decoded query parameters. */
export interface DecodedUri {
  /** The decoded path, for logs and messages only: route on `segments` (a decoded `%2F` is a `/` here). */
  path: string;
  /**
   * The path split on `/` first, then each segment decoded (`['', 'v1', 'tickets', 'a/b']` for
   * `/v1/tickets/a%2Fb`): an encoded slash stays inside its segment and cannot shift the route.
   */
  segments: string[];
  /** Decoded query; a repeated name keeps every value in order. */
  query: Record<string, string | string[]>;
}

/** Parses the `data` of a Graph API CALLBACK. */
export function parseGraphRequest(data: string, messageId?: string): GraphRequest {
  const doc = parseJsonObject(data, 'data', messageId);
  const line = doc.requestLine;
  if (!isPlainObject(line))
    throw new ProtocolError('data.requestLine', 'an object {method, uri}', line, messageId);
  const method = typeof line.method === 'string' ? line.method.toUpperCase() : line.method;
  if (typeof method !== 'string' || !GRAPH_METHODS.includes(method as GraphMethod))
    throw new ProtocolError(
      'data.requestLine.method',
      `one of ${GRAPH_METHODS.join(', ')}`,
      line.method,
      messageId,
    );
  const uri = line.uri;
  if (typeof uri !== 'string' || !uri.startsWith('/'))
    throw new ProtocolError('data.requestLine.uri', 'a path starting with "/"', uri, messageId);
  const headers: Record<string, string> = {};
  if (doc.headers !== undefined && doc.headers !== null) {
    if (!isPlainObject(doc.headers))
      throw new ProtocolError('data.headers', 'an object', doc.headers, messageId);
    const raw = doc.headers;
    for (const k of Object.keys(raw)) {
      const v = raw[k];
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') headers[k.toLowerCase()] = String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
        headers[k.toLowerCase()] = v.join(', ');
      else if (v !== null) throw new ProtocolError(`data.headers.${k}`, 'a string', v, messageId);
    }
  }
  let body = doc.body;
  if (body === undefined || body === null) body = '';
  else if (isPlainObject(body)) {
    // Tolerated: a body sent as an object (checked for depth first: JSON.stringify recurses).
    requireJsonDepth(body, 'data.body', messageId);
    body = JSON.stringify(body);
  }
  if (typeof body !== 'string')
    throw new ProtocolError('data.body', 'a string holding JSON', body, messageId);
  return { requestLine: { method: method as GraphMethod, uri }, headers, body };
}

export function serializeGraphRequest(req: GraphRequest): string {
  return JSON.stringify(req);
}

/** Defines an own, enumerable property (plain assignment to `__proto__` would replace the prototype). */
function setOwn(obj: Record<string, string | string[]>, key: string, value: string | string[]): void {
  // Only `__proto__` needs defineProperty (assignment would call the prototype setter); defineProperty on
  // every key is slower and can turn the object into a dictionary.
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** `decodeURIComponent` of a query part with `+` as space, skipped when there is nothing to decode. */
function decodeQueryPart(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/**
 * `text.split(separator)` for a one-character separator, by `indexOf` and `slice`: the same parts,
 * about half the time on strings that come out of JSON.parse (V8's split cache only helps literals).
 */
function splitOn(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, start)) {
    parts.push(text.slice(start, at));
    start = at + 1;
  }
  parts.push(text.slice(start));
  return parts;
}

/** Splits a request URI into its path and decoded query. Throws ProtocolError on malformed %-encoding. */
export function decodeRequestUri(uri: string, messageId?: string): DecodedUri {
  // A fragment is never part of the request; drop it before splitting path and query.
  const hash = uri.indexOf('#');
  const target = hash === -1 ? uri : uri.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const rawQuery = q === -1 ? '' : target.slice(q + 1);
  // Split first, then decode: decoding first would turn `%2F` into a separator.
  const encoded = rawPath.includes('%');
  let segments: string[];
  try {
    segments = splitOn(rawPath, '/');
    if (encoded)
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i] as string;
        if (segment.includes('%')) segments[i] = decodeURIComponent(segment);
      }
  } catch (err) {
    throw new ProtocolError('data.requestLine.uri', 'a validly %-encoded path', rawPath, messageId, {
      cause: err,
    });
  }
  const path = encoded ? segments.join('/') : rawPath;
  const query: Record<string, string | string[]> = {};
  if (rawQuery !== '') {
    for (const part of splitOn(rawQuery, '&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const rawKey = eq === -1 ? part : part.slice(0, eq);
      const rawValue = eq === -1 ? '' : part.slice(eq + 1);
      let key: string;
      let value: string;
      try {
        key = decodeQueryPart(rawKey);
        value = decodeQueryPart(rawValue);
      } catch (err) {
        throw new ProtocolError(
          'data.requestLine.uri',
          'validly %-encoded query parameters',
          part,
          messageId,
          {
            cause: err,
          },
        );
      }
      // Own properties only: names like `constructor` or `__proto__` are ordinary query names here.
      const prev = Object.hasOwn(query, key) ? query[key] : undefined;
      if (prev === undefined) setOwn(query, key, value);
      else if (Array.isArray(prev)) prev.push(value);
      else setOwn(query, key, [prev, value]);
    }
  }
  return { path, segments, query };
}

/** Parses a Graph request body: "" is an empty object; anything else must be a JSON object. */
export function parseGraphBody(body: string, messageId?: string): JsonObject {
  if (body.trim() === '') return {};
  const doc = parseJsonObject(body, 'data.body', messageId);
  requireJsonDepth(doc, 'data.body', messageId);
  return doc;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'BAD REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  500: 'INTERNAL ERROR',
  503: 'SERVICE UNAVAILABLE',
  504: 'GATEWAY TIMEOUT',
};

/** A Graph response with a JSON body (the body's keys are the variables an AI card shows). */
export function graphJsonResponse(
  code: number,
  body: unknown,
  reasonPhrase = REASONS[code] ?? 'UNKNOWN',
): GraphResponse {
  return {
    statusLine: { code, reasonPhrase },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? null),
  };
}

/** Parses a Graph response (the sandbox reads what a skill answered). */
export function parseGraphResponse(value: unknown): GraphResponse {
  if (!isPlainObject(value))
    throw new ProtocolError('response', 'an object {statusLine, headers, body}', value);
  const line = value.statusLine;
  if (!isPlainObject(line))
    throw new ProtocolError('response.statusLine', 'an object {code, reasonPhrase}', line);
  const code = typeof line.code === 'string' ? Number(line.code) : line.code;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599)
    throw new ProtocolError('response.statusLine.code', 'an HTTP status code', line.code);
  const headers: Record<string, string> = {};
  if (isPlainObject(value.headers)) {
    for (const [k, v] of Object.entries(value.headers))
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
  }
  let body = value.body;
  if (body === undefined || body === null) body = '';
  if (typeof body !== 'string') body = JSON.stringify(body);
  return {
    statusLine: {
      code,
      reasonPhrase: typeof line.reasonPhrase === 'string' ? line.reasonPhrase : (REASONS[code] ?? ''),
    },
    headers,
    body: body as string,
  };
}
