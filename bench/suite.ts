/**
 * What every benchmark suite implements. `bench/run.ts` keeps the registry of suites; a suite gets the
 * parsed options, writes result rows through `emit` and progress lines through `log` (stderr).
 */

/** One result: printed as one JSON object per line with `--json`, as a table row otherwise. */
export interface BenchRow {
  suite: string;
  [key: string]: string | number | boolean | null | undefined;
}

/** Options shared by all suites; a suite reads the ones it knows and keeps its own defaults. */
export interface BenchOptions {
  /** Measured messages per client in the saturation phase. */
  messages?: number;
  /** Warm-up messages per client, not measured. */
  warmup?: number;
  /** Largest number of messages in flight (sent, not yet acked). */
  window?: number;
  /** Message rate of the rate-limited (steady) phase, messages per second. */
  rate?: number;
  /** Length of the steady phase in seconds. */
  seconds?: number;
  /** Runs per client; the reported value is the median over rounds. */
  rounds?: number;
  /** Only these clients (suite-specific names). */
  clients?: string[];
  /** How the bench gateway writes frames (stream, skills and app suites): see `GatewayWrites`. */
  gatewayWrites?: 'frame' | 'turn';
  /** Write a V8 CPU profile of every client process into this directory (numbers are then distorted). */
  cpuProfDir?: string;
}

export interface SuiteContext {
  options: BenchOptions;
  emit(row: BenchRow): void;
  log(line: string): void;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<void>;
}
