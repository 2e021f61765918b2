/**
 * Why a `fetch` never got an answer, in words a developer can act on. undici reports every network
 * failure as `TypeError: fetch failed`; the reason is in `err.cause.code` (or, when several addresses
 * were tried, in the codes of `err.cause.errors`).
 */

const TLS_CODES =
  /^(?:CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

/** The system error code behind a failed fetch (`ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, ...). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && /^[A-Z_]+$/.test(code)) return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = networkErrorCode(errors[0]);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `fetch failed: bad port`: the messages of an error and its causes. */
function messageChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const m = e instanceof Error ? e.message : String(e);
    if (m && !parts.includes(m)) parts.push(m);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}

/** A sentence naming what failed on the way to `url`: refused connection, DNS, TLS, timeout, reset. */
export function describeNetworkError(err: unknown, url: string): string {
  const code = networkErrorCode(err);
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    host = url; // not a URL: name it as given
  }
  const message = messageChain(err);
  if (!code) return `${message} (${url})`;
  if (code === 'ECONNREFUSED') return `connection refused by ${host} (ECONNREFUSED: nothing listens there)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL')
    return `DNS lookup of ${host} failed (${code})`;
  if (TLS_CODES.test(code))
    return `TLS with ${host} failed (${code}: the certificate or TLS setup is not accepted)`;
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return `connecting to ${host} timed out (${code})`;
  if (code === 'ECONNRESET') return `${host} closed the connection (ECONNRESET)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${host} is unreachable (${code})`;
  return `${message} (${code}, ${url})`;
}
