/** Messages between the suite (parent) and a client process (child), over the fork IPC channel. */
import type { BenchClientConfig, ClientName } from './clients/types.js';

/** argv[2] of the child: which client to run and where the gateway is. */
export interface ChildArgs extends BenchClientConfig {
  client: ClientName;
}

export type ToChild = { type: 'begin' } | { type: 'end' } | { type: 'rss' } | { type: 'stop' };

/** CPU (user+sys, microseconds) and peak RSS (bytes) of the child over one measured window. */
export interface Measured {
  type: 'measured';
  cpuUserUs: number;
  cpuSystemUs: number;
  peakRssBytes: number;
  /** `phase`: the peak within the measured window; `process`: since the process started. */
  peakRssScope: 'phase' | 'process';
}

export type FromChild =
  | { type: 'ready' }
  | { type: 'begun' }
  | Measured
  /** The process's current RSS (bytes), read on request (no GC forced). */
  | { type: 'rss'; rssBytes: number }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };
