import { ErrorCode, toError } from '../errors/coded-error.js';
import {
  CONTROL_BODY_LIMIT,
  cancelBody,
  isRedirect,
  readBodyText,
  UnexpectedRedirectError,
} from '../http/read-body.js';
import {
  CONNECTIONS_OPEN_PATH,
  type ConnectionOpenRequest,
  type ConnectionOpenResponse,
  parseConnectionOpenResponse,
  type Subscription,
} from '../protocol/gateway.js';
import { OpenApiErrorCode, readOpenApiError } from '../protocol/openapi-error.js';
import type { FetchLike } from './config.js';
import { StreamConnectError } from './connect-error.js';
import { describeNetworkError } from './network-cause.js';
import { type PostAnswer, postJson } from './open-request.js';

/** POSTs with a caller's fetch (`fetch` in the Stream config); a redirect is handed back, never followed. */
async function postWithFetch(
  doFetch: FetchLike,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PostAnswer> {
  // The body carries clientSecret: a redirect is never followed (it would re-POST the secret to
  // wherever Location points); the caller refuses it.
  const res = await doFetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  if (isRedirect(res.status)) {
    await cancelBody(res);
    return { status: res.status, text: '' };
  }
  return { status: res.status, text: await readBodyText(res, CONTROL_BODY_LIMIT, 'connections/open') };
}

/** What `connections/open` needs. */
export interface OpenTicketRequest {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  subscriptions: Subscription[];
  ua: string;
  localIp: string;
  /** A caller's fetch; undefined: `node:http`/`node:https` (see open-request.ts). */
  fetch: FetchLike | undefined;
  timeoutMs: number;
  /** Aborts the request (the client is stopping). */
  signal: AbortSignal;
}

const CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  OpenApiErrorCode.AuthFailed,
  OpenApiErrorCode.InvalidClient,
]);

/**
 * Calls `POST {apiBase}/v1.0/gateway/connections/open` and returns the endpoint and single-use ticket.
 * Throws {@link StreamConnectError}: `ERR_CREDENTIALS` (401/403 or `authFailed`/`invalidClientIdOrSecret`),
 * or `ERR_CONNECT` (network, timeout, 5xx, unreadable answer: retryable; other 4xx: permanent).
 */
export async function openTicket(req: OpenTicketRequest): Promise<ConnectionOpenResponse> {
  const body: ConnectionOpenRequest = {
    clientId: req.clientId,
    clientSecret: req.clientSecret,
    subscriptions: req.subscriptions,
    ua: req.ua,
    localIp: req.localIp,
  };
  const url = `${req.apiBase}${CONNECTIONS_OPEN_PATH}`;
  const ac = new AbortController();
  const onAbort = () => ac.abort(req.signal.reason);
  req.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${req.timeoutMs} ms`)), req.timeoutMs);
  let status: number;
  let text: string;
  // Connection: close: this call is rare (once per connection) and a pooled idle socket would outlive
  // stop().
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json', Connection: 'close' };
  try {
    const answer = req.fetch
      ? await postWithFetch(req.fetch, url, JSON.stringify(body), headers, ac.signal)
      : await postJson(url, JSON.stringify(body), {
          headers,
          signal: ac.signal,
          limitBytes: CONTROL_BODY_LIMIT,
          what: 'connections/open',
        });
    status = answer.status;
    if (isRedirect(status)) {
      const err = new UnexpectedRedirectError('connections/open', status);
      throw new StreamConnectError(ErrorCode.Connect, err.message, { status, permanent: true, cause: err });
    }
    text = answer.text;
  } catch (thrown) {
    if (thrown instanceof StreamConnectError) throw thrown;
    const aborted = ac.signal.aborted && ac.signal.reason !== undefined;
    const why = aborted ? toError(ac.signal.reason).message : describeNetworkError(thrown, url);
    throw new StreamConnectError(ErrorCode.Connect, `connections/open at ${url} failed: ${why}`, {
      permanent: false,
      cause: thrown,
    });
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener('abort', onAbort);
  }
  let doc: unknown;
  try {
    doc = text === '' ? undefined : JSON.parse(text);
  } catch {
    doc = undefined; // reported below with the status; the body may be an HTML error page
  }
  if (status >= 200 && status < 300) {
    try {
      return parseConnectionOpenResponse(doc);
    } catch (err) {
      throw new StreamConnectError(
        ErrorCode.Connect,
        `connections/open answered ${status} with an unreadable body: ${toError(err).message}`,
        { status, permanent: false, cause: err },
      );
    }
  }
  const apiError = readOpenApiError(doc);
  const failure = {
    status,
    platformCode: apiError?.code,
    requestId: apiError?.requestid || undefined,
  };
  const detail = apiError ? `${apiError.code}: ${apiError.message}` : 'no error body';
  if (status === 401 || status === 403 || (apiError && CREDENTIAL_CODES.has(apiError.code))) {
    throw new StreamConnectError(
      ErrorCode.Credentials,
      `DingTalk rejected the app credentials (HTTP ${status}, ${detail}); check clientId and clientSecret`,
      { ...failure, permanent: true },
    );
  }
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  throw new StreamConnectError(ErrorCode.Connect, `connections/open answered HTTP ${status} (${detail})`, {
    ...failure,
    permanent,
  });
}
