/**
 * The stream suite: one local gateway, three clients (floor, official, ours) on the same workload, one at a
 * time, each in its own process on a fresh connection. Per client and phase: CPU microseconds per message
 * (user+sys of the client process), messages per second, p50/p99 ack latency, peak RSS.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import { bundleClient } from './bundle.js';
import { ClientProcess } from './client-process.js';
import { CLIENT_NAMES, type ClientName } from './clients/types.js';
import { BenchGateway, type GatewaySession, type PhaseResult, type PhaseSpec, quantile } from './gateway.js';
import type { Measured } from './ipc.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET } from './workload.js';

const DEFAULTS = { messages: 30_000, warmup: 5_000, window: 32, rate: 5_000, seconds: 3, rounds: 3 };
const START_TIMEOUT_MS = 20_000;
const IPC_TIMEOUT_MS = 5_000;
/** "ours" runs once the Stream client exists (another part of the project writes it). */
const OURS_ENTRY = fileURLToPath(new URL('../../packages/sdk/src/stream/index.ts', import.meta.url));

interface Sample {
  cpu_us_per_msg: number;
  msgs_per_s: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb: number;
  errors: number;
  window_stalls: number;
  /** The gateway's own event-loop delay p99 (ms): when high, latencies are limited by the harness/machine. */
  gw_lag_p99_ms: number;
  rss_scope: 'phase' | 'process';
}

type Mode = 'saturate' | `steady-${number}`;

function toSample(result: PhaseResult, measured: Measured): Sample {
  return {
    cpu_us_per_msg: (measured.cpuUserUs + measured.cpuSystemUs) / result.messages,
    msgs_per_s: (result.messages * 1000) / result.elapsedMs,
    p50_ms: quantile(result.latenciesMs, 0.5),
    p99_ms: quantile(result.latenciesMs, 0.99),
    rss_mb: measured.peakRssBytes / (1024 * 1024),
    errors: result.errors,
    window_stalls: result.windowStalls,
    gw_lag_p99_ms: result.loopDelayP99Ms,
    rss_scope: measured.peakRssScope,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** Runs one measured phase: child starts counting, the gateway drives the phase, child stops counting. */
async function measure(proc: ClientProcess, session: GatewaySession, spec: PhaseSpec): Promise<Sample> {
  await proc.request({ type: 'begin' }, 'begun', IPC_TIMEOUT_MS);
  const result = await session.run(spec);
  const measured = await proc.request({ type: 'end' }, 'measured', IPC_TIMEOUT_MS);
  return toSample(result, measured);
}

async function runClient(
  gateway: BenchGateway,
  entry: string,
  client: ClientName,
  opts: typeof DEFAULTS,
  log: (line: string) => void,
  cpuProfDir: string | undefined,
): Promise<Map<Mode, Sample>> {
  const sessionP = gateway.nextSession(START_TIMEOUT_MS);
  // If the child fails to start, nobody awaits sessionP: keep its rejection from going unhandled.
  sessionP.catch(() => undefined);
  const proc = await ClientProcess.start(
    entry,
    { client, apiBase: gateway.apiBase, clientId: BENCH_CLIENT_ID, clientSecret: BENCH_CLIENT_SECRET },
    START_TIMEOUT_MS,
    log,
    cpuProfDir,
  );
  const out = new Map<Mode, Sample>();
  let session: GatewaySession | undefined;
  try {
    session = await sessionP;
    const timeoutFor = (messages: number, rate?: number) =>
      Math.max(10_000, rate ? (messages * 3000) / rate : messages * 2);
    await session.run({ messages: opts.warmup, window: opts.window, timeoutMs: timeoutFor(opts.warmup) });
    out.set(
      'saturate',
      await measure(proc, session, {
        messages: opts.messages,
        window: opts.window,
        timeoutMs: timeoutFor(opts.messages),
      }),
    );
    const steadyMessages = Math.round(opts.rate * opts.seconds);
    out.set(
      `steady-${opts.rate}`,
      await measure(proc, session, {
        messages: steadyMessages,
        window: opts.window,
        rate: opts.rate,
        timeoutMs: timeoutFor(steadyMessages, opts.rate),
      }),
    );
  } finally {
    await proc.stop();
    session?.close();
  }
  return out;
}

function describeSample(s: Sample): string {
  return `${s.cpu_us_per_msg.toFixed(1)} µs/msg, ${Math.round(s.msgs_per_s)} msg/s, p50 ${s.p50_ms.toFixed(3)} ms, p99 ${s.p99_ms.toFixed(3)} ms, ${s.rss_mb.toFixed(1)} MB`;
}

async function run(ctx: SuiteContext): Promise<void> {
  const o = ctx.options;
  const opts = {
    messages: o.messages ?? DEFAULTS.messages,
    warmup: o.warmup ?? DEFAULTS.warmup,
    window: o.window ?? DEFAULTS.window,
    rate: o.rate ?? DEFAULTS.rate,
    seconds: o.seconds ?? DEFAULTS.seconds,
    rounds: o.rounds ?? DEFAULTS.rounds,
  };
  const unknown = (o.clients ?? []).filter((c) => !(CLIENT_NAMES as readonly string[]).includes(c));
  if (unknown.length > 0)
    throw new Error(`unknown client(s): ${unknown.join(', ')}; known: ${CLIENT_NAMES.join(', ')}`);
  const wanted = CLIENT_NAMES.filter((c) => !o.clients || o.clients.includes(c));
  const clients = wanted.filter((c) => c !== 'ours' || existsSync(OURS_ENTRY));
  const steadyMode: Mode = `steady-${opts.rate}`;
  const samples = new Map<ClientName, Map<Mode, Sample[]>>();
  const failures = new Map<ClientName, string>();

  if (wanted.includes('ours') && !clients.includes('ours')) {
    failures.set('ours', `not run: ${OURS_ENTRY} does not exist yet`);
  }
  ctx.log(
    `stream: ${opts.rounds} round(s) x [${clients.join(', ')}]; warm-up ${opts.warmup}, saturate ${opts.messages} (window ${opts.window}), steady ${opts.rate} msg/s for ${opts.seconds} s`,
  );
  const entries = new Map<ClientName, string>();
  for (const client of clients) {
    try {
      entries.set(client, await bundleClient(client));
    } catch (err) {
      failures.set(client, `build failed: ${err instanceof Error ? err.message : String(err)}`);
      ctx.log(`stream: ${client} ${failures.get(client)}`);
    }
  }
  const gateway = await BenchGateway.start(ctx.log);
  try {
    for (let r = 1; r <= opts.rounds; r++) {
      for (const client of clients) {
        const entry = entries.get(client);
        if (entry === undefined || failures.has(client)) continue;
        try {
          const result = await runClient(gateway, entry, client, opts, ctx.log, o.cpuProfDir);
          const modes = samples.get(client) ?? new Map<Mode, Sample[]>();
          for (const [mode, sample] of result) {
            modes.set(mode, [...(modes.get(mode) ?? []), sample]);
            ctx.log(`stream: round ${r} ${client} ${mode}: ${describeSample(sample)}`);
          }
          samples.set(client, modes);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          failures.set(client, message);
          ctx.log(`stream: ${client} failed: ${message}`);
        }
      }
    }
  } finally {
    await gateway.close();
  }

  const summary = (client: ClientName, mode: Mode): Sample | undefined => {
    const list = samples.get(client)?.get(mode);
    if (!list || list.length === 0) return undefined;
    const pick = (k: Exclude<keyof Sample, 'rss_scope'>) => median(list.map((s) => s[k]));
    return {
      cpu_us_per_msg: pick('cpu_us_per_msg'),
      msgs_per_s: pick('msgs_per_s'),
      p50_ms: pick('p50_ms'),
      p99_ms: pick('p99_ms'),
      rss_mb: pick('rss_mb'),
      errors: list.reduce((n, s) => n + s.errors, 0),
      window_stalls: list.reduce((n, s) => n + s.window_stalls, 0),
      gw_lag_p99_ms: pick('gw_lag_p99_ms'),
      rss_scope: list.every((s) => s.rss_scope === 'phase') ? 'phase' : 'process',
    };
  };

  for (const client of wanted) {
    const failed = failures.get(client);
    for (const mode of ['saturate', steadyMode] as const) {
      const s = summary(client, mode);
      const row: BenchRow = { suite: 'stream', client, mode };
      if (s) {
        Object.assign(row, {
          cpu_us_per_msg: round(s.cpu_us_per_msg, 2),
          msgs_per_s: Math.round(s.msgs_per_s),
          p50_ms: round(s.p50_ms, 3),
          p99_ms: round(s.p99_ms, 3),
          rss_mb: round(s.rss_mb, 1),
          messages: mode === 'saturate' ? opts.messages : Math.round(opts.rate * opts.seconds),
          window: opts.window,
          rounds: samples.get(client)?.get(mode)?.length ?? 0,
          errors: s.errors,
          gw_lag_p99_ms: round(s.gw_lag_p99_ms, 2),
        });
        if (s.rss_scope !== 'phase') row.rss_scope = s.rss_scope;
        if (mode !== 'saturate') Object.assign(row, { rate: opts.rate, window_stalls: s.window_stalls });
      } else {
        row.error = failed ?? 'no result';
      }
      ctx.emit(row);
    }
  }

  const ours = summary('ours', 'saturate');
  const floor = summary('floor', 'saturate');
  const official = summary('official', 'saturate');
  const oursSteady = summary('ours', steadyMode);
  const target = (
    name: string,
    value: number | undefined,
    op: '<=' | '>=' | '<',
    limit: number,
  ): BenchRow => {
    const pass =
      value === undefined
        ? null
        : op === '<='
          ? value <= limit
          : op === '>='
            ? value >= limit
            : value < limit;
    return {
      suite: 'stream',
      target: name,
      value: value === undefined ? null : round(value, 3),
      op,
      limit,
      pass,
    };
  };
  ctx.emit(
    target(
      'cpu_us_per_msg ours/floor (saturate)',
      ours && floor ? ours.cpu_us_per_msg / floor.cpu_us_per_msg : undefined,
      '<=',
      1.5,
    ),
  );
  ctx.emit(
    target(
      'msgs_per_s ours/official (saturate)',
      ours && official ? ours.msgs_per_s / official.msgs_per_s : undefined,
      '>=',
      0.9,
    ),
  );
  ctx.emit(target(`p99_ms ours (${steadyMode})`, oursSteady?.p99_ms, '<', 2));
}

export const streamSuite: Suite = {
  name: 'stream',
  description:
    'Stream client cost: floor (raw ws) vs official dingtalk-stream vs ours, Graph CALLBACKs against a local gateway',
  run,
};
