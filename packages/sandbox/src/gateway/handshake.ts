import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { scrubSecrets, toError } from '@dingtalk-skills/sdk/internal';
import {
  type ConnectionOpenResponse,
  type OpenApiErrorBody,
  OpenApiErrorCode,
  openApiError,
  ProtocolError,
  parseConnectionOpenRequest,
} from '@dingtalk-skills/sdk/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppRef, SandboxContext } from '../context.js';
import { type TicketGrant, TicketStore } from './tickets.js';

/** The path of the gateway's WebSocket endpoint. */
export const CONNECT_PATH = '/connect';

/** The answer to `POST /v1.0/gateway/connections/open`. */
export interface OpenAnswer {
  status: number;
  body: ConnectionOpenResponse | OpenApiErrorBody;
}

/** A host header we can put into the endpoint URL (name or IP, optional port). */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function requestId(): string {
  return randomUUID().toUpperCase();
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * How a client gets a gateway connection: `connections/open` authenticates the app and issues a
 * one-use ticket, then the `/connect?ticket=...` WebSocket upgrade redeems it. An accepted socket
 * is handed to `onSocket` with what the ticket grants.
 */
export class Handshake {
  readonly #ctx: SandboxContext;
  readonly #tickets: TicketStore;
  readonly #wss: WebSocketServer;
  readonly #closing: () => boolean;
  readonly #onSocket: (ws: WebSocket, grant: TicketGrant, req: IncomingMessage) => void;

  constructor(
    ctx: SandboxContext,
    closing: () => boolean,
    onSocket: (ws: WebSocket, grant: TicketGrant, req: IncomingMessage) => void,
  ) {
    this.#ctx = ctx;
    this.#closing = closing;
    this.#onSocket = onSocket;
    this.#tickets = new TicketStore(ctx.clock, ctx.options.ticketTtlMs);
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: ctx.options.maxUpstreamBytes,
    });
  }

  /** Tickets issued and remembered (used or not) until their expiry. */
  get tickets(): number {
    return this.#tickets.size;
  }

  /**
   * Handles a connections/open body. Bad JSON or fields: 400 `invalidParameter`; unknown clientId
   * or wrong secret: 401 `authFailed` "鉴权失败"; success: `{endpoint, ticket}`.
   */
  open(bodyText: string, hostHeader: string | undefined): OpenAnswer {
    const { logger } = this.#ctx;
    let req: ReturnType<typeof parseConnectionOpenRequest>;
    try {
      req = parseConnectionOpenRequest(bodyText);
    } catch (err) {
      const message = err instanceof ProtocolError ? err.message : toError(err).message;
      logger.warn({ error: message }, 'connections/open: invalid body');
      return { status: 400, body: openApiError('invalidParameter', message, requestId()) };
    }
    const app = this.#authenticate(req.clientId, req.clientSecret);
    if (app === undefined) {
      logger.warn(
        {
          clientId: req.clientId,
          reason: this.#ctx.findApp(req.clientId) ? 'wrong clientSecret' : 'unknown clientId',
        },
        'connections/open: authentication failed',
      );
      return { status: 401, body: openApiError(OpenApiErrorCode.AuthFailed, '鉴权失败', requestId()) };
    }
    if (this.#closing()) {
      return { status: 503, body: openApiError('ServiceUnavailable', 'the gateway is closing', requestId()) };
    }
    const ticket = this.#tickets.issue({
      app,
      subscriptions: req.subscriptions,
      ua: req.ua,
      localIp: req.localIp,
    });
    const host =
      hostHeader !== undefined && HOST_HEADER.test(hostHeader) ? hostHeader : new URL(this.#ctx.url()).host;
    logger.info(
      { clientId: app.clientId, subscriptions: req.subscriptions, ua: req.ua },
      'connections/open: ticket issued',
    );
    // Behind TLS (`tls` option) the endpoint is wss://, as DingTalk's (wss-open-connection.dingtalk.com:443).
    const scheme = this.#ctx.options.tls ? 'wss' : 'ws';
    return { status: 200, body: { endpoint: `${scheme}://${host}${CONNECT_PATH}`, ticket } };
  }

  /** The HTTP server's `upgrade` listener: `/connect?ticket=...` with a valid ticket, else 401/404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger } = this.#ctx;
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    if (url.pathname !== CONNECT_PATH) {
      logger.warn({ path: url.pathname }, 'websocket upgrade on an unknown path');
      rejectUpgrade(socket, 404, { code: 'NotFound', message: `no WebSocket endpoint at ${url.pathname}` });
      return;
    }
    if (this.#closing()) {
      rejectUpgrade(socket, 503, { code: 'ServiceUnavailable', message: 'the gateway is closing' });
      return;
    }
    const redeemed = this.#tickets.redeem(url.searchParams.get('ticket'));
    if (!redeemed.ok) {
      const why = {
        missing: 'no ticket',
        unknown: 'unknown ticket',
        used: 'ticket already used',
        expired: 'ticket expired',
      }[redeemed.reason];
      logger.warn({ reason: why, url: scrubSecrets(req.url ?? '', []) }, 'websocket handshake refused');
      rejectUpgrade(socket, 401, { code: OpenApiErrorCode.AuthFailed, message: why });
      return;
    }
    const grant = redeemed.grant;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closing()) {
        ws.terminate();
        return;
      }
      this.#onSocket(ws, grant, req);
    });
  }

  /** Forgets every ticket and closes the WebSocket server (the sockets are closed by the gateway). */
  async close(): Promise<void> {
    this.#tickets.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #authenticate(clientId: string, clientSecret: string): AppRef | undefined {
    if (this.#ctx.authenticateApp) return this.#ctx.authenticateApp(clientId, clientSecret);
    const app = this.#ctx.options.apps.find((a) => a.clientId === clientId);
    return app && sameSecret(app.clientSecret, clientSecret) ? app : undefined;
  }
}

/** Answers a WebSocket handshake with an HTTP error and a DingTalk-style JSON body, then closes. */
export function rejectUpgrade(socket: Duplex, status: number, body: { code: string; message: string }): void {
  const text = JSON.stringify({ requestid: requestId(), ...body });
  const reason =
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ??
    'Error';
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}
