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
