import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeRequestUri, GRAPH_METHODS, type GraphMethod, parseGraphBody } from '../../protocol/graph.js';
import { ProtocolError } from '../../protocol/protocol-error.js';
import { extractAccessToken, type SkillInvocation } from '../invocation.js';
import { outcomeBody, outcomeStatus, SkillErrorCode, type SkillOutcome } from '../outcome.js';

export interface HttpReceiverOptions {
  /**
   * Optional shared secret: when set, every request must carry it in `sharedSecretHeader`.
   * DingTalk's public material documents no signature for HTTP action calls, so this is our own,
   * optional protection (configure the same header on the platform side, e.g. in the action's spec).
   */
  sharedSecret?: string | undefined;
  /** Header that carries the shared secret (default `x-dingtalk-skills-secret`). */
  sharedSecretHeader?: string;
  /** Largest body accepted, bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

export type InvokeFn = (inv: SkillInvocation) => Promise<SkillOutcome>;

function send(res: ServerResponse, outcome: SkillOutcome, requestId: string): void {
  const payload = JSON.stringify(outcomeBody(outcome, requestId) ?? null);
  res.writeHead(outcomeStatus(outcome), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
  });
  res.end(payload);
}

function secretMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage, max: number): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A node:http request handler serving the same skills on their method + path (for actions
 * registered as HTTP rather than Stream). Works with `http.createServer(handler)` and any framework
 * that exposes the raw request/response.
 */
export function createHttpHandler(invoke: InvokeFn, options: HttpReceiverOptions = {}) {
  const header = (options.sharedSecretHeader ?? 'x-dingtalk-skills-secret').toLowerCase();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  let counter = 0;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId =
      (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id']) ||
      `http-${Date.now().toString(36)}-${(++counter).toString(36)}`;
    const fail = (status: number, code: string, message: string) =>
      send(res, { kind: 'error', status, code, message }, requestId);
    try {
      if (options.sharedSecret && !secretMatches(options.sharedSecret, req.headers[header])) {
        return fail(401, SkillErrorCode.Unauthorized, 'missing or wrong shared secret');
      }
      const method = (req.method ?? 'GET').toUpperCase();
      if (!GRAPH_METHODS.includes(method as GraphMethod)) {
        return fail(405, 'MethodNotAllowed', `method ${method} is not supported`);
      }
      const raw = await readBody(req, maxBody);
      if (raw === 'too-large') return fail(413, 'PayloadTooLarge', `body larger than ${maxBody} bytes`);
      const { path, query } = decodeRequestUri(req.url ?? '/');
      const body = parseGraphBody(raw);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && k !== header) headers[k] = v;
      const inv: SkillInvocation = {
        source: 'http',
        requestId,
        method: method as GraphMethod,
        path,
        query,
        body,
        headers,
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
