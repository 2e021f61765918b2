import type { StreamClient } from '../stream/client.js';

/** What a readiness check says; extra fields are shown in `/readyz`. */
export interface ReadinessReport {
  ready: boolean;
  /** Why not ready. */
  reason?: string;
  [detail: string]: unknown;
}

/** Decides readiness; may answer a boolean or a report, synchronously or not. */
export type ReadinessCheck = () => ReadinessReport | boolean | Promise<ReadinessReport | boolean>;

/**
 * Readiness of an app on Stream: ready while at least one connection of the pool is registered with the
 * gateway (`connected`) and the client is not stopping. Reports the client state and the count of
 * connected slots.
 */
export function streamReadiness(client: StreamClient): ReadinessCheck {
  return () => {
    const status = client.status();
    let connected = 0;
    for (const slot of status.connections) if (slot.state === 'connected') connected++;
    const detail = { state: status.state, connections: connected, of: status.connections.length };
    if (status.state === 'stopping' || status.state === 'stopped')
      return { ready: false, reason: `the Stream client is ${status.state}`, ...detail };
    if (connected === 0) return { ready: false, reason: 'no Stream connection is registered', ...detail };
    return { ready: true, ...detail };
  };
}

/** What {@link stateReadiness} asks of the shared state (`createSharedState`'s answer has it). */
export interface StateHealthSource {
  store: { kind: string };
  health(): Promise<{ healthy: boolean; reason?: string }>;
}

/**
 * Readiness of the shared state store: not ready while the store does not answer (one bounded round
 * trip; answered at once while its circuit is open), so `/readyz` says why (503) during a Redis outage
 * and turns ready again once the store answers. The report carries `store` (its kind) and `storeHealthy`.
 */
export function stateReadiness(state: StateHealthSource): ReadinessCheck {
  return async () => {
    const health = await state.health();
    if (health.healthy) return { ready: true, store: state.store.kind, storeHealthy: true };
    return {
      ready: false,
      reason: `the ${state.store.kind} state store is not answering: ${health.reason ?? 'unknown'}`,
      store: state.store.kind,
      storeHealthy: false,
    };
  };
}

/**
 * Ready when every check is; the reasons of those that are not are joined, and the details of all of
 * them are merged into one report. Checks run concurrently.
 */
export function allReady(...checks: ReadinessCheck[]): ReadinessCheck {
  return async () => {
    const reports = await Promise.all(
      checks.map(async (check) => {
        const r = await check();
        return typeof r === 'boolean' ? { ready: r } : r;
      }),
    );
    const merged: ReadinessReport = { ready: true };
    const reasons: string[] = [];
    for (const { ready, reason, ...detail } of reports) {
      Object.assign(merged, detail);
      if (!ready) {
        merged.ready = false;
        if (reason !== undefined) reasons.push(reason);
      }
    }
    if (!merged.ready && reasons.length > 0) merged.reason = reasons.join('; ');
    return merged;
  };
}
