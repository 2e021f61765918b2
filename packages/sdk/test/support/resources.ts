import { until } from './wait.js';

/** Counts of the resources a leak would show: pending timers and TCP sockets. */
export interface ResourceCounts {
  Timeout: number;
  TCPSocketWrap: number;
}

/** Current counts from `process.getActiveResourcesInfo()`. */
export function resourceCounts(): ResourceCounts {
  const counts: ResourceCounts = { Timeout: 0, TCPSocketWrap: 0 };
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'Timeout' || r === 'TCPSocketWrap') counts[r]++;
  }
  return counts;
}

/**
 * Waits (bounded) until timers and TCP sockets are back at `baseline` or below: after the client's
 * `stop()`, the gateway side of each socket and the HTTP keep-alive sockets also need a turn to close.
 */
export async function expectBackToBaseline(baseline: ResourceCounts, timeoutMs = 3_000): Promise<void> {
  let last = resourceCounts();
  try {
    await until(
      () => {
        last = resourceCounts();
        return last.Timeout <= baseline.Timeout && last.TCPSocketWrap <= baseline.TCPSocketWrap;
      },
      timeoutMs,
      'timers and sockets to return to baseline',
    );
  } catch {
    throw new Error(
      `resources leaked: baseline ${JSON.stringify(baseline)}, now ${JSON.stringify(last)} (${process
        .getActiveResourcesInfo()
        .join(', ')})`,
    );
  }
}
