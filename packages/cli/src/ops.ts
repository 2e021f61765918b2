import {
  type Logger,
  Metrics,
  type OpsServer,
  type StreamClient,
  startOpsServer,
} from '@dingtalk-skills/sdk';
import {
  allReady,
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
  stream: StreamClient;
  /** The shared state: `/readyz` answers 503 while its store does not answer. */
  state: StateHealthSource;
  metrics: Metrics | undefined;
}): Promise<OpsServer | undefined> {
  if (input.port === undefined) return undefined;
  return startOpsServer({
    port: input.port,
    host: input.host,
    logger: input.logger,
    readiness: allReady(streamReadiness(input.stream), stateReadiness(input.state)),
    ...(input.metrics ? { metrics: input.metrics } : {}),
  });
}

/** The line `dev` and `start` print for the ops endpoints. */
export function opsLine(ops: OpsServer): string {
  return `  ops endpoints    ${ops.url}/metrics ${ops.url}/healthz ${ops.url}/readyz\n`;
}
