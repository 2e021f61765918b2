import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '@dingtalk-skills/sdk';
import { LogBudget } from '@dingtalk-skills/sdk/internal';
import type { FastifyInstance } from 'fastify';
import type { HostPolicy } from './hosts.js';

/** Header a script sends on a control API call that has no JSON body (the page and the CLI do). */
export const SANDBOX_CLIENT_HEADER = 'x-sandbox-client';

/** Stable codes of the answers {@link Admission} gives instead of running a route. */
export const AdmissionCode = {
  /** 403: the `Host` header is not a name of this sandbox (DNS rebinding, a wrong proxy). */
  ForbiddenHost: 'forbiddenHost',
  /** 403: a browser sent a state-changing request (or a WebSocket handshake) from another origin. */
  ForbiddenOrigin: 'forbiddenOrigin',
  /** 415: a state-changing control API request without a JSON (or YAML) body or the client header. */
  ClientHeaderRequired: 'sandboxClientRequired',
} as const;
export type AdmissionCode = (typeof AdmissionCode)[keyof typeof AdmissionCode];

/** Why a request was not let in: the status and the JSON body to answer. */
export interface Refusal {
  status: 403 | 415;
  code: AdmissionCode;
  message: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Media types a page on another origin cannot send without a CORS preflight (the sandbox grants
 * none): JSON, and the YAML types `POST /sandbox/skills` reads. `text/plain`, forms and multipart are
 * what a form or a "simple" fetch can send from anywhere, so they need the client header.
 */
const PREFLIGHTED_TYPES = new Set([
  'application/json',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
]);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isControlPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/sandbox' || path.startsWith('/sandbox/');
}

/**
 * Request admission (准入) for everything on the sandbox's port, before any route runs or any body is
 * read. The sandbox is a local tool with no login, so it must not be drivable by web pages:
 * 1. `Host` must name this sandbox ({@link HostPolicy}): a DNS-rebinding page sends its own name.
 * 2. A state-changing request (not GET/HEAD/OPTIONS) or a WebSocket handshake with an `Origin`
 *    must come from the sandbox's own origin. SDK clients send no `Origin`; the consent page's form
 *    and the assistant page are same-origin.
 * 3. A state-changing control API request (`/sandbox/...`) needs a JSON/YAML content type or the
 *    `x-sandbox-client` header: both force a CORS preflight on a cross-origin page.
 * DingTalk-shaped routes (`/v1.0/...`, `/gettoken`, `/oauth2/...`) are held to 1 and 2 only.
 */
export class Admission {
  readonly #hosts: HostPolicy;
  readonly #logger: Logger;
  readonly #budget = new LogBudget(20, 1);

  constructor(hosts: HostPolicy, logger: Logger) {
    this.#hosts = hosts;
    this.#logger = logger;
  }

  /** The refusal for a request, or undefined to let it in. */
  check(method: string, url: string, headers: IncomingHttpHeaders): Refusal | undefined {
    const host = header(headers, 'host');
    if (!this.#hosts.allows(host))
      return {
        status: 403,
        code: AdmissionCode.ForbiddenHost,
        message: `Host ${JSON.stringify(clip(host ?? ''))} is not a name of this sandbox (add it to allowedHosts / DINGTALK_SANDBOX_ALLOWED_HOSTS to serve it)`,
      };
    const safe = SAFE_METHODS.has(method.toUpperCase());
    const origin = header(headers, 'origin');
    if (!safe && origin !== undefined && !this.#sameOrigin(origin))
      return {
        status: 403,
        code: AdmissionCode.ForbiddenOrigin,
        message: `requests from origin ${JSON.stringify(clip(origin))} are refused: only the sandbox's own pages may change its state`,
      };
    if (
      !safe &&
      isControlPath(url) &&
      (header(headers, SANDBOX_CLIENT_HEADER) ?? '') === '' &&
      !PREFLIGHTED_TYPES.has(mediaType(header(headers, 'content-type')))
    )
      return {
        status: 415,
        code: AdmissionCode.ClientHeaderRequired,
        message: `a state-changing control API request needs Content-Type: application/json (YAML for /sandbox/skills) or the ${SANDBOX_CLIENT_HEADER} header`,
      };
    return undefined;
  }

  /** The refusal for a WebSocket handshake (Host and, when present, Origin), or undefined. */
  checkUpgrade(headers: IncomingHttpHeaders): Refusal | undefined {
    return this.check('CONNECT', '/connect', headers);
  }

  /** Logs a refusal, at most ~1 line a second after a burst of 20 (a page can send thousands). */
  log(refusal: Refusal, method: string, url: string, headers: IncomingHttpHeaders): void {
    const suppressed = this.#budget.take();
    if (suppressed === undefined) return;
    this.#logger.warn(
      {
        code: refusal.code,
        method,
        path: clip(url.split('?')[0] ?? ''),
        host: clip(header(headers, 'host') ?? ''),
        origin: clip(header(headers, 'origin') ?? ''),
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      'sandbox: request refused by admission',
    );
  }

  /** Adds the check as the first `onRequest` hook of every route (register before the routes). */
  register(server: FastifyInstance): void {
    server.addHook('onRequest', async (req, reply) => {
      const refusal = this.check(req.method, req.url, req.headers);
      if (refusal === undefined) return;
      this.log(refusal, req.method, req.url, req.headers);
      return reply
        .code(refusal.status)
        .header('cache-control', 'no-store')
        .send({ code: refusal.code, message: refusal.message });
    });
  }

  #sameOrigin(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // "null" and garbage: an opaque origin is never the sandbox's own
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return this.#hosts.allows(
      url.port === '' ? `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}` : url.host,
    );
  }
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
