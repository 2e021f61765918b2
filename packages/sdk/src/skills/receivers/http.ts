import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeRequestUri, GRAPH_METHODS, type GraphMethod, parseGraphBody } from '../../protocol/graph.js';
import { ProtocolError } from '../../protocol/protocol-error.js';
import { extractAccessToken, type SkillInvocation } from '../invocation.js';
import { outcomeBody, outcomeStatus, SkillErrorCode, type SkillOutcome } from '../outcome.js';

/** The explicit opt-out from authentication: local testing only, warned about on every start. */
export const INSECURE_NO_AUTH = 'none-insecure-local-testing';

export interface HttpReceiverOptions {
  /**
   * Shared secret every request must carry in `sharedSecretHeader` (compared in constant time), at
   * least 16 characters. DingTalk documents no signature for AI assistant HTTP actions, so this is the
   * authentication: whatever sits between DingTalk and the app (a gateway you control) adds the header.
   * Required when a skill acts as the user, unless `auth` is `INSECURE_NO_AUTH` (`'none-insecure-local-testing'`). See docs/security.md.
   */
  sharedSecret?: string | undefined;
  /** Header that carries the shared secret (default `x-dingtalk-skills-secret`). */
  sharedSecretHeader?: string;
  /**
   * `'none-insecure-local-testing'` serves skills that act as the user without authentication: anyone
   * who reaches the port can then name any user. For a laptop only; a warning is logged on every start.
   */
  auth?: typeof INSECURE_NO_AUTH;
  /** Largest body accepted, bytes (default 1 MiB): larger is 413 without reading the rest. */
  maxBodyBytes?: number;
  /** `listenHttp`: time to receive a request's headers, ms (default 10,000; then 408 and close). */
  headersTimeoutMs?: number;
  /** `listenHttp`: time to receive a whole request, ms (default 30,000). */
  requestTimeoutMs?: number;
  /** `listenHttp`: idle keep-alive connections are closed after this, ms (default 5,000). */
  keepAliveTimeoutMs?: number;
}

export type InvokeFn = (inv: SkillInvocation) => Promise<SkillOutcome>;

/** What the handler needs to know about authentication, decided once by the skills app. */
export interface HttpReceiverAuth {
  /** True when requests are authenticated or the app opted out explicitly: context is then trusted. */
  trusted: boolean;
}

function send(res: ServerResponse, outcome: SkillOutcome, requestId: string, close = false): void {
  const payload = JSON.stringify(outcomeBody(outcome, requestId) ?? null);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
  };
  if (close) headers.connection = 'close';
  res.writeHead(outcomeStatus(outcome), headers);
  res.end(payload);
}

function secretMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads the body up to `max` bytes. A larger declared `content-length` is refused before reading; a
 * body that grows past `max` stops being read at that point (the caller answers 413 and closes).
 */
function readBody(req: IncomingMessage, max: number): Promise<string | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      done();
      req.pause();
      resolve('too-large');
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** After a 413: the rest of the body is never read; the connection closes once the answer is out. */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    req.socket.end();
    setTimeout(() => req.socket.destroy(), 1_000).unref();
  });
}

/**
 * A node:http request handler serving the same skills on their method + path (for actions
 * registered as HTTP rather than Stream). Works with `http.createServer(handler)` and any framework
 * that exposes the raw request/response. Fails closed like `httpHandler()`: unless `auth` says
 * otherwise, requests are trusted (context parameters, user credentials) only with a `sharedSecret`
 * or the explicit `auth: 'none-insecure-local-testing'`; otherwise no request acts as a user.
 */
export function createHttpHandler(
  invoke: InvokeFn,
  options: HttpReceiverOptions = {},
  auth: HttpReceiverAuth = {
    trusted: Boolean(options.sharedSecret) || options.auth === INSECURE_NO_AUTH,
  },
) {
  const header = (options.sharedSecretHeader ?? 'x-dingtalk-skills-secret').toLowerCase();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  let counter = 0;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId =
      (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id']) ||
      `http-${Date.now().toString(36)}-${(++counter).toString(36)}`;
    const fail = (status: number, code: string, message: string, close = false) =>
      send(res, { kind: 'error', status, code, message }, requestId, close);
    try {
      if (options.sharedSecret && !secretMatches(options.sharedSecret, req.headers[header])) {
        return fail(401, SkillErrorCode.Unauthorized, 'missing or wrong shared secret');
      }
      const method = (req.method ?? 'GET').toUpperCase();
      if (!GRAPH_METHODS.includes(method as GraphMethod)) {
        return fail(405, 'MethodNotAllowed', `method ${method} is not supported`);
      }
      const raw = await readBody(req, maxBody);
      if (raw === 'too-large') {
        closeAfterAnswer(req, res);
        return fail(413, 'PayloadTooLarge', `body larger than ${maxBody} bytes`, true);
      }
      const { path, segments, query } = decodeRequestUri(req.url ?? '/');
      const body = parseGraphBody(raw);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && k !== header) headers[k] = v;
      const inv: SkillInvocation = {
        source: 'http',
        requestId,
        method: method as GraphMethod,
        path,
        segments,
        query,
        body,
        headers,
        trusted: auth.trusted,
      };
      const accessToken = extractAccessToken(body);
      if (accessToken) inv.accessToken = accessToken;
      send(res, await invoke(inv), requestId);
    } catch (err) {
      if (err instanceof ProtocolError) {
        return send(
          res,
          {
            kind: 'error',
            status: 400,
            code: SkillErrorCode.InvalidParameter,
            message: err.message,
            fields: [{ field: err.field.replace(/^data\./, ''), message: `expected ${err.expected}` }],
          },
          requestId,
        );
      }
      throw err;
    }
  };
}
