import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/** Largest body read from a control call (`connections/open`, the token endpoints): 1 MiB. */
export const CONTROL_BODY_LIMIT = 1024 * 1024;

/** Default largest body read from an OpenAPI call: 10 MiB. */
export const OPENAPI_BODY_LIMIT = 10 * 1024 * 1024;

/** A response whose body is larger than the reader allows (`ERR_RESPONSE_TOO_LARGE`). */
export class ResponseTooLargeError extends DingTalkSkillsError {
  readonly limitBytes: number;
  /** Bytes read before giving up (or the declared Content-Length when that alone was too large). */
  readonly receivedBytes: number;
  constructor(what: string, limitBytes: number, receivedBytes: number) {
    super(
      ErrorCode.ResponseTooLarge,
      `${what}: the response body exceeds ${limitBytes} bytes (stopped reading after ${receivedBytes})`,
    );
    this.limitBytes = limitBytes;
    this.receivedBytes = receivedBytes;
  }
}

/**
 * A redirect answer to a call that carries credentials (`ERR_REDIRECT`): it is never followed, since
 * following it would send the secret or token to wherever the `Location` points.
 */
export class UnexpectedRedirectError extends DingTalkSkillsError {
  readonly status: number;
  constructor(what: string, status: number) {
    super(
      ErrorCode.Redirect,
      `${what} answered HTTP ${status} (a redirect); credential-bearing calls never follow redirects, check the API base URL`,
    );
    this.status = status;
  }
}

/** True for a 3xx status (with `redirect: 'manual'`, fetch hands these back instead of following them). */
export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/**
 * Reads a fetch response's body as UTF-8 text, at most `limitBytes` of it. A declared Content-Length
 * above the limit fails before reading; a body that grows past it fails as soon as it does. Either way
 * the body stream is cancelled, which makes undici close the connection, so the rest is never
 * downloaded (memory stays bounded whatever the server sends).
 */
export async function readBodyText(res: Response, limitBytes: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limitBytes) {
    await cancelBody(res);
    throw new ResponseTooLargeError(what, limitBytes, declared);
  }
  const body = res.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined); // the error below says what happened
      throw new ResponseTooLargeError(what, limitBytes, total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** Cancels a response body nobody will read (never rejects). */
export async function cancelBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Cancelling a body that already failed rejects; the caller reports the size error instead.
  }
}
