/**
 * The skills suite: what the skills framework adds on top of the Stream client. Same gateway, workload
 * and process-per-client harness as the stream suite (`../stream/`): Graph CALLBACKs on
 * `/v1.0/graph/api/invoke`, `--window` in flight, each answer checked. Clients: `floor` (raw ws),
 * `ours` (StreamClient, the workload handler) and `ours-skills` (the app runtime: StreamClient + SkillsApp
 * routing, validating and answering with a skill). Per client: CPU µs per message, msgs/s, p50/p99, RSS.
 */

import { bundle } from '../gateway/bundle.js';
import { ClientProcess } from '../stream/client-process.js';
import { BenchGateway, type PhaseResult, quantile } from '../stream/gateway.js';
import type { ChildArgs } from '../stream/ipc.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET } from '../stream/workload.js';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';

const DEFAULTS = { messages: 20_000, warmup: 5_000, window: 32, rounds: 3 };
const START_TIMEOUT_MS = 20_000;
const IPC_TIMEOUT_MS = 5_000;
/** The target of issue 4: the Graph callback answered by a skill costs at most this times the floor's CPU. */
const TARGET_RATIO = 1.5;

/** Client name -> its module (from the repository root). */
const CLIENTS = {
  floor: 'bench/stream/clients/floor.ts',
  ours: 'bench/stream/clients/ours.ts',
  'ours-skills': 'bench/skills/clients/ours-skills.ts',
} as const;
type SkillsClient = keyof typeof CLIENTS;
const CLIENT_NAMES = Object.keys(CLIENTS) as SkillsClient[];

interface Sample {
  cpu_us_per_msg: number;
  msgs_per_s: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb: number;
  errors: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** Bundles a client's child entry (its `start` run by the stream suite's `child.ts`). */
function bundleClient(client: SkillsClient): Promise<string> {
  return bundle(`skills-${client}`, {
    contents: `import { start } from '../../${CLIENTS[client]}';\nimport { runChild } from '../stream/child.ts';\nrunChild(start);\n`,
    resolveDir: 'bench/skills',
  });
}

/** One client process on a fresh connection: warm-up, then one measured saturation phase. */
async function runClient(
  gateway: BenchGateway,
  entry: string,
  opts: typeof DEFAULTS,
  log: (line: string) => void,
  cpuProfDir: string | undefined,
): Promise<Sample> {
  const sessionP = gateway.nextSession(START_TIMEOUT_MS);
  sessionP.catch(() => undefined);
  // child.ts hands these to the client's start(); `client` only names it (these names are this suite's).
  const args = {
    client: 'ours',
    apiBase: gateway.apiBase,
    clientId: BENCH_CLIENT_ID,
    clientSecret: BENCH_CLIENT_SECRET,
  } satisfies ChildArgs;
  const proc = await ClientProcess.start(entry, args, START_TIMEOUT_MS, log, cpuProfDir);
  const session = await sessionP.catch(async (err: unknown) => {
    await proc.stop();
    throw err;
  });
  try {
    const timeoutMs = (n: number) => Math.max(10_000, n * 2);
    await session.run({ messages: opts.warmup, window: opts.window, timeoutMs: timeoutMs(opts.warmup) });
    await proc.request({ type: 'begin' }, 'begun', IPC_TIMEOUT_MS);
    const result: PhaseResult = await session.run({
      messages: opts.messages,
      window: opts.window,
      timeoutMs: timeoutMs(opts.messages),
    });
    const m = await proc.request({ type: 'end' }, 'measured', IPC_TIMEOUT_MS);
    return {
      cpu_us_per_msg: (m.cpuUserUs + m.cpuSystemUs) / result.messages,
      msgs_per_s: (result.messages * 1000) / result.elapsedMs,
      p50_ms: quantile(result.latenciesMs, 0.5),
      p99_ms: quantile(result.latenciesMs, 0.99),
      rss_mb: m.peakRssBytes / (1024 * 1024),
      errors: result.errors,
    };
  } finally {
    await proc.stop();
    session.close();
  }
}

async function run(ctx: SuiteContext): Promise<void> {
  const o = ctx.options;
  const opts = {
    messages: o.messages ?? DEFAULTS.messages,
    warmup: o.warmup ?? DEFAULTS.warmup,
    window: o.window ?? DEFAULTS.window,
    rounds: o.rounds ?? DEFAULTS.rounds,
  };
  const unknown = (o.clients ?? []).filter((c) => !(c in CLIENTS));
  if (unknown.length > 0)
    throw new Error(`skills: unknown client(s) ${unknown.join(', ')}; known: ${CLIENT_NAMES.join(', ')}`);
  const clients = CLIENT_NAMES.filter((c) => !o.clients || o.clients.includes(c));
  ctx.log(
    `skills: ${opts.rounds} round(s) x [${clients.join(', ')}]; warm-up ${opts.warmup}, saturate ${opts.messages} (window ${opts.window})`,
  );
  const entries = new Map<SkillsClient, string>();
  for (const c of clients) entries.set(c, await bundleClient(c));

  const samples = new Map<SkillsClient, Sample[]>();
  const failures = new Map<SkillsClient, string>();
  const gateway = await BenchGateway.start(ctx.log);
  try {
    for (let r = 1; r <= opts.rounds; r++) {
      for (const client of clients) {
        if (failures.has(client)) continue;
        try {
          const s = await runClient(gateway, entries.get(client)!, opts, ctx.log, o.cpuProfDir);
          samples.set(client, [...(samples.get(client) ?? []), s]);
          ctx.log(
            `skills: round ${r} ${client}: ${s.cpu_us_per_msg.toFixed(1)} µs/msg, ${Math.round(s.msgs_per_s)} msg/s, p50 ${s.p50_ms.toFixed(3)} ms, p99 ${s.p99_ms.toFixed(3)} ms, ${s.rss_mb.toFixed(1)} MB, errors ${s.errors}`,
          );
        } catch (err) {
          failures.set(client, err instanceof Error ? err.message : String(err));
          ctx.log(`skills: ${client} failed: ${failures.get(client)}`);
        }
      }
    }
  } finally {
    await gateway.close();
  }

  const summary = new Map<SkillsClient, Sample>();
  for (const client of clients) {
    const list = samples.get(client) ?? [];
    const row: BenchRow = { suite: 'skills', client, mode: 'saturate' };
    if (list.length > 0) {
      const pick = (k: keyof Sample) => median(list.map((s) => s[k]));
      const s: Sample = {
        cpu_us_per_msg: pick('cpu_us_per_msg'),
        msgs_per_s: pick('msgs_per_s'),
        p50_ms: pick('p50_ms'),
        p99_ms: pick('p99_ms'),
        rss_mb: pick('rss_mb'),
        errors: list.reduce((n, x) => n + x.errors, 0),
      };
      summary.set(client, s);
      Object.assign(row, {
        cpu_us_per_msg: round(s.cpu_us_per_msg, 2),
        msgs_per_s: Math.round(s.msgs_per_s),
        p50_ms: round(s.p50_ms, 3),
        p99_ms: round(s.p99_ms, 3),
        rss_mb: round(s.rss_mb, 1),
        messages: opts.messages,
        window: opts.window,
        rounds: list.length,
        errors: s.errors,
      });
    } else row.error = failures.get(client) ?? 'no result';
    ctx.emit(row);
  }
  const ratio = (a: SkillsClient, b: SkillsClient) => {
    const x = summary.get(a);
    const y = summary.get(b);
    return x && y ? x.cpu_us_per_msg / y.cpu_us_per_msg : undefined;
  };
  const value = ratio('ours-skills', 'floor');
  ctx.emit({
    suite: 'skills',
    target: 'cpu_us_per_msg ours-skills/floor (saturate)',
    value: value === undefined ? null : round(value, 3),
    op: '<=',
    limit: TARGET_RATIO,
    pass: value === undefined ? null : value <= TARGET_RATIO,
  });
  const overStream = ratio('ours-skills', 'ours');
  if (overStream !== undefined)
    ctx.emit({
      suite: 'skills',
      target: 'cpu_us_per_msg ours-skills/ours (for information)',
      value: round(overStream, 3),
      op: '',
      limit: null,
      pass: null,
    });
}

export const skillsSuite: Suite = {
  name: 'skills',
  description:
    'Graph CALLBACKs answered by a skill (StreamClient + SkillsApp: route, zod-validate, answer) vs the floor and the bare StreamClient',
  run,
};
