import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadinessCheck, ReadinessReport } from './readiness.js';

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** TCP port (0: the OS picks one; the CLI documents 9464, the usual Prometheus exporter port). */
  port: number;
  /** Interface (default `127.0.0.1`; `0.0.0.0` for a scraper on another host, e.g. in a container). */
  host?: string;
  /** Served on `GET /metrics`; without it `/metrics` answers 404. */
  metrics?: Metrics;
  /** Decides `GET /readyz` (e.g. `streamReadiness(app.stream)`); without it the process is always ready. */
  readiness?: ReadinessCheck;
  logger?: Logger;
  /**
   * More GET routes by exact path (query ignored), e.g. `running.routes` (the bot's consent callback,
   * 机器人授权回调). They cannot replace `/metrics`, `/healthz` or `/readyz`.
   */
  routes?: Readonly<Record<string, HttpRoute>>;
}

/** A GET route served by the ops server; it writes the whole answer to `res`. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A running ops server. */
export interface OpsServer {
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes idle keep-alive sockets. Safe to call twice. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1).optional(),
});

/**
 * Starts the operations endpoints on their own small HTTP server (plain `node:http`, separate from any
 * skills server):
 *
 * - `GET /metrics`: the Prometheus text of `metrics`' registry;
 * - `GET /healthz`: 200 `{"status":"ok"}` while the process answers (liveness);
 * - `GET /readyz`: 200 `{"status":"ready", ...}` when `readiness` says so, else 503
 *   `{"status":"not ready", "reason", ...}` (for an app: ready = at least one Stream connection
 *   registered, not stopping).
 *
 * Other paths answer 404, other methods 405; a failing check or scrape answers 500 and is logged.
 * Nothing here reads the environment: the CLI passes `--ops-port` / `DINGTALK_OPS_PORT`.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const parsed = optionsSchema.safeParse({ port: options.port, host: options.host });
  if (!parsed.success)
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `invalid ops server options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const host = parsed.data.host ?? '127.0.0.1';
  const log = (options.logger ?? silentLogger()).child({ component: 'ops-server' });
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      log.error({ url: req.url, err: toError(err) }, 'ops endpoint failed');
      if (!res.headersSent) send(res, 500, { status: 'error', message: 'internal error' });
      else res.destroy();
    });
  });
  // Scrapers keep connections alive; do not hold the process (or close()) on them.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(parsed.data.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  log.info({ host, port }, 'ops endpoints listening (/metrics, /healthz, /readyz)');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () => {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

const OPS_PATHS: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

async function handle(req: IncomingMessage, res: ServerResponse, options: OpsServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const route = OPS_PATHS.has(path) ? undefined : options.routes?.[path];
  if (route && Object.hasOwn(options.routes ?? {}, path)) {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      send(res, 405, { status: 'method not allowed' });
      return;
    }
    await route(req, res);
    return;
  }
  if (!OPS_PATHS.has(path)) {
    send(res, 404, { status: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, { status: 'method not allowed' });
    return;
  }
  if (path === '/healthz') {
    send(res, 200, { status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
    return;
  }
  if (path === '/readyz') {
    const report = await readinessOf(options.readiness);
    const { ready, ...rest } = report;
    send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...rest });
    return;
  }
  if (options.metrics === undefined) {
    send(res, 404, { status: 'not found', message: 'metrics are not enabled' });
    return;
  }
  const text = await options.metrics.render();
  res.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

async function readinessOf(check: ReadinessCheck | undefined): Promise<ReadinessReport> {
  if (check === undefined) return { ready: true };
  const result = await check();
  return typeof result === 'boolean' ? { ready: result } : result;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
