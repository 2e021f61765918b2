import {
  type Logger,
  Metrics,
  type OpsServer,
  type StreamClient,
  startOpsServer,
} from '@dingtalk-skills/sdk';
import {
  allReady,
  type HttpRoute,
  type StateHealthSource,
  stateReadiness,
  streamReadiness,
} from '@dingtalk-skills/sdk/internal';

/** The `--ops-port` / `--ops-host` flags, with DINGTALK_OPS_PORT / DINGTALK_OPS_HOST behind them. */
export interface OpsFlags {
  opsPort?: number;
  opsHost?: string;
}

/**
 * The app's metrics registry when ops endpoints were asked for (flag or environment), else undefined:
 * no registry, no per-message metric cost.
 */
export function opsMetrics(port: number | undefined): Metrics | undefined {
  return port === undefined ? undefined : new Metrics();
}

/** Serves /metrics, /healthz and /readyz for a running app; undefined when no port was asked for. */
export async function startOps(input: {
  port: number | undefined;
  host: string;
  logger: Logger;
  /** The app's Stream client, or a getter when the ops server starts before the app (`dev` with a bot). */
  stream: StreamClient | (() => StreamClient | undefined);
  /** The shared state: `/readyz` answers 503 while its store does not answer. */
  state: StateHealthSource;
  metrics: Metrics | undefined;
  /** More GET routes (the bot's consent callback). */
  routes?: Record<string, HttpRoute>;
}): Promise<OpsServer | undefined> {
  if (input.port === undefined) return undefined;
  const { stream } = input;
  const streamReady =
    typeof stream === 'function'
      ? async () => {
          const s = stream();
          return s ? streamReadiness(s)() : { ready: false, reason: 'the app is starting' };
        }
      : streamReadiness(stream);
  return startOpsServer({
    port: input.port,
    host: input.host,
    logger: input.logger,
    readiness: allReady(streamReady, stateReadiness(input.state)),
    ...(input.metrics ? { metrics: input.metrics } : {}),
    ...(input.routes ? { routes: input.routes } : {}),
  });
}

/** Where `dev` and `start` serve the bot's consent callback (机器人授权回调) on the ops server by default. */
export const BOT_CONSENT_PATH = '/dingtalk/bot/consent';

/** Routes that call the app's routes once it runs (the ops server may start first). */
export function lateRoutes(
  paths: string[],
  routes: () => Readonly<Record<string, HttpRoute>> | undefined,
): Record<string, HttpRoute> {
  return Object.fromEntries(
    paths.map((path) => [
      path,
      async (req, res) => {
        const route = routes()?.[path];
        if (route) return route(req, res);
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
        res.end('the app is starting');
      },
    ]),
  );
}

/** The line `dev` and `start` print for the ops endpoints. */
export function opsLine(ops: OpsServer): string {
  return `  ops endpoints    ${ops.url}/metrics ${ops.url}/healthz ${ops.url}/readyz\n`;
}
