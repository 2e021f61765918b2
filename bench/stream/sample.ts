/**
 * The numbers of one client in one measured phase (a `Sample`), their medians over rounds, and the row
 * columns they print as: shared by the stream and skills suites, which measure clients the same way.
 */
import { median, quantile, round } from '../shared/stats.js';
import type { BenchRow } from '../suite.js';
import type { PhaseResult } from './gateway.js';
import type { Measured } from './ipc.js';

export interface Sample {
  cpu_us_per_msg: number;
  msgs_per_s: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  rss_mb: number;
  errors: number;
  window_stalls: number;
  /** The gateway's own event-loop delay p99 (ms): when high, latencies are limited by the harness/machine. */
  gw_lag_p99_ms: number;
  /**
   * The gateway process's CPU per message (µs): at saturation gateway and client share this machine's
   * cores, and a high value marks a round where both fell into writing one frame per wakeup.
   */
  gw_cpu_us_per_msg: number;
  rss_scope: 'phase' | 'process';
}

/** What the gateway saw of a phase (`result`) and what the client process measured of itself. */
export function toSample(result: PhaseResult, measured: Measured, gatewayCpuUs: number): Sample {
  return {
    cpu_us_per_msg: (measured.cpuUserUs + measured.cpuSystemUs) / result.messages,
    msgs_per_s: (result.messages * 1000) / result.elapsedMs,
    p50_ms: quantile(result.latenciesMs, 0.5),
    p99_ms: quantile(result.latenciesMs, 0.99),
    p999_ms: quantile(result.latenciesMs, 0.999),
    rss_mb: measured.peakRssBytes / (1024 * 1024),
    errors: result.errors,
    window_stalls: result.windowStalls,
    gw_lag_p99_ms: result.loopDelayP99Ms,
    gw_cpu_us_per_msg: gatewayCpuUs / result.messages,
    rss_scope: measured.peakRssScope,
  };
}

/** Medians over rounds; `errors` and `window_stalls` summed; `rss_scope` is `phase` only if every round's was. */
export function summarize(list: readonly Sample[]): Sample {
  const pick = (k: Exclude<keyof Sample, 'rss_scope'>) => median(list.map((s) => s[k]));
  return {
    cpu_us_per_msg: pick('cpu_us_per_msg'),
    msgs_per_s: pick('msgs_per_s'),
    p50_ms: pick('p50_ms'),
    p99_ms: pick('p99_ms'),
    p999_ms: pick('p999_ms'),
    rss_mb: pick('rss_mb'),
    errors: list.reduce((n, s) => n + s.errors, 0),
    window_stalls: list.reduce((n, s) => n + s.window_stalls, 0),
    gw_lag_p99_ms: pick('gw_lag_p99_ms'),
    gw_cpu_us_per_msg: pick('gw_cpu_us_per_msg'),
    rss_scope: list.every((s) => s.rss_scope === 'phase') ? 'phase' : 'process',
  };
}

/** One round's sample for the log. */
export function describeSample(s: Sample): string {
  return `${s.cpu_us_per_msg.toFixed(1)} µs/msg, ${Math.round(s.msgs_per_s)} msg/s, p50 ${s.p50_ms.toFixed(3)} ms, p99 ${s.p99_ms.toFixed(3)} ms, ${s.rss_mb.toFixed(1)} MB (gateway ${s.gw_cpu_us_per_msg.toFixed(1)} µs/msg)`;
}

/** The columns of a client's row (after suite, client and mode), in the order both suites print them. */
export function sampleColumns(
  s: Sample,
  run: { messages: number; window: number; rounds: number },
): Omit<BenchRow, 'suite'> {
  return {
    cpu_us_per_msg: round(s.cpu_us_per_msg, 2),
    msgs_per_s: Math.round(s.msgs_per_s),
    p50_ms: round(s.p50_ms, 3),
    p99_ms: round(s.p99_ms, 3),
    rss_mb: round(s.rss_mb, 1),
    messages: run.messages,
    window: run.window,
    rounds: run.rounds,
    errors: s.errors,
  };
}

/** A target row: `value` (null when a client has no result) compared with `limit`. */
export function targetRow(
  suite: string,
  name: string,
  value: number | undefined,
  op: '<=' | '>=' | '<',
  limit: number,
): BenchRow {
  const pass =
    value === undefined ? null : op === '<=' ? value <= limit : op === '>=' ? value >= limit : value < limit;
  return { suite, target: name, value: value === undefined ? null : round(value, 3), op, limit, pass };
}
