/**
 * A closed-loop load generator for workloads run in the bench process (e2e, user-api): `window` workers
 * each call `once` again and again, one call at a time, until `count` calls were started or a deadline.
 */
import { performance } from 'node:perf_hooks';

/** One call of the workload: undefined when it went right, else what went wrong (a throw counts too). */
export type Once = () => Promise<string | undefined>;

export interface DriveResult {
  /** Latencies (ms) of the successful calls, ascending. */
  latencies: Float64Array;
  /** Successful calls. */
  ok: number;
  /** Calls that answered a problem or threw. */
  errors: number;
  /** The first problem, for the log. */
  firstError: string | undefined;
  /** First start -> last end (ms). */
  ms: number;
  /** Calls started (ok + errors). */
  started: number;
}

/** Runs `once` with `window` in flight until `count` were started or `untilMs` (performance.now()) passed. */
export async function drive(
  once: Once,
  count: number,
  window: number,
  untilMs: number,
): Promise<DriveResult> {
  const latencies = new Float64Array(count);
  let started = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  let last = t0;
  const worker = async () => {
    while (started < count && performance.now() < untilMs) {
      started++;
      const begin = performance.now();
      let problem: string | undefined;
      try {
        problem = await once();
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      const end = performance.now();
      last = Math.max(last, end);
      if (problem === undefined) latencies[ok++] = end - begin;
      else {
        errors++;
        firstError ??= problem;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, window) }, worker));
  return { latencies: latencies.subarray(0, ok).sort(), ok, errors, firstError, ms: last - t0, started };
}

/** Successful calls per second over `run.ms` (0 for an empty run). */
export function perSecond(run: DriveResult): number {
  return run.ms > 0 ? (run.ok * 1000) / run.ms : 0;
}
