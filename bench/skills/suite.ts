/**
 * The skills suite: what the skills framework adds on top of the Stream client. Same gateway, workload
 * and process-per-client harness as the stream suite (`../stream/`): Graph CALLBACKs on
 * `/v1.0/graph/api/invoke`, `--window` in flight, each answer checked. Clients: `floor` (raw ws),
 * `ours` (StreamClient, the workload handler) and `ours-skills` (the app runtime: StreamClient + SkillsApp
 * routing, validating and answering with a skill). Per client: CPU µs per message, msgs/s, p50/p99, RSS.
 */

import { withDefaults } from '../shared/options.js';
import { round } from '../shared/stats.js';
import { bundleClient } from '../stream/bundle.js';
import { BenchGateway } from '../stream/gateway.js';
import { measurePhase, phaseTimeoutMs, startClient } from '../stream/measure.js';
import { describeSample, type Sample, sampleColumns, summarize, targetRow } from '../stream/sample.js';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';

const DEFAULTS = { messages: 20_000, warmup: 5_000, window: 32, rounds: 3 };
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

/** One client process on a fresh connection: warm-up, then one measured saturation phase. */
async function runClient(
  gateway: BenchGateway,
  entry: string,
  opts: typeof DEFAULTS,
  log: (line: string) => void,
  cpuProfDir: string | undefined,
): Promise<Sample> {
  // child.ts hands the args to the client's start(); `client` only names it (these names are this suite's).
  const running = await startClient(gateway, entry, 'ours', log, cpuProfDir);
  try {
    await running.session.run({
      messages: opts.warmup,
      window: opts.window,
      timeoutMs: phaseTimeoutMs(opts.warmup),
    });
    return await measurePhase(running, {
      messages: opts.messages,
      window: opts.window,
      timeoutMs: phaseTimeoutMs(opts.messages),
    });
  } finally {
    await running.proc.stop();
    running.session.close();
  }
}

async function run(ctx: SuiteContext): Promise<void> {
  const o = ctx.options;
  const opts = withDefaults(o, DEFAULTS);
  const unknown = (o.clients ?? []).filter((c) => !(c in CLIENTS));
  if (unknown.length > 0)
    throw new Error(`skills: unknown client(s) ${unknown.join(', ')}; known: ${CLIENT_NAMES.join(', ')}`);
  const clients = CLIENT_NAMES.filter((c) => !o.clients || o.clients.includes(c));
  ctx.log(
    `skills: ${opts.rounds} round(s) x [${clients.join(', ')}]; warm-up ${opts.warmup}, saturate ${opts.messages} (window ${opts.window})`,
  );
  const entries = new Map<SkillsClient, string>();
  for (const c of clients) entries.set(c, await bundleClient(`skills-${c}`, CLIENTS[c]));

  const samples = new Map<SkillsClient, Sample[]>();
  const failures = new Map<SkillsClient, string>();
  const gateway = await BenchGateway.start(ctx.log, ctx.options.gatewayWrites);
  try {
    for (let r = 1; r <= opts.rounds; r++) {
      for (const client of clients) {
        if (failures.has(client)) continue;
        try {
          const s = await runClient(gateway, entries.get(client)!, opts, ctx.log, o.cpuProfDir);
          samples.set(client, [...(samples.get(client) ?? []), s]);
          ctx.log(`skills: round ${r} ${client}: ${describeSample(s)}, errors ${s.errors}`);
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
      const s = summarize(list);
      summary.set(client, s);
      Object.assign(
        row,
        sampleColumns(s, { messages: opts.messages, window: opts.window, rounds: list.length }),
      );
    } else row.error = failures.get(client) ?? 'no result';
    ctx.emit(row);
  }
  const ratio = (a: SkillsClient, b: SkillsClient) => {
    const x = summary.get(a);
    const y = summary.get(b);
    return x && y ? x.cpu_us_per_msg / y.cpu_us_per_msg : undefined;
  };
  const value = ratio('ours-skills', 'floor');
  ctx.emit(targetRow('skills', 'cpu_us_per_msg ours-skills/floor (saturate)', value, '<=', TARGET_RATIO));
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
