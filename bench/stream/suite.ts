/**
 * The stream suite: one local gateway, three clients (floor, official, ours) on the same workload, one at a
 * time, each in its own process on a fresh connection. Per client and phase: CPU microseconds per message
 * (user+sys of the client process), messages per second, p50/p99 ack latency, peak RSS.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withDefaults } from '../shared/options.js';
import { round } from '../shared/stats.js';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import { bundleClient } from './bundle.js';
import { CLIENT_NAMES, type ClientName } from './clients/types.js';
import { BenchGateway } from './gateway.js';
import { measurePhase, phaseTimeoutMs, startClient } from './measure.js';
import { describeSample, type Sample, sampleColumns, summarize, targetRow } from './sample.js';

const DEFAULTS = { messages: 30_000, warmup: 5_000, window: 32, rate: 5_000, seconds: 3, rounds: 3 };
/** "ours" runs once the Stream client exists (another part of the project writes it). */
const OURS_ENTRY = fileURLToPath(new URL('../../packages/sdk/src/stream/index.ts', import.meta.url));

type Mode = 'saturate' | `steady-${number}`;

async function runClient(
  gateway: BenchGateway,
  entry: string,
  client: ClientName,
  opts: typeof DEFAULTS,
  log: (line: string) => void,
  cpuProfDir: string | undefined,
): Promise<Map<Mode, Sample>> {
  const running = await startClient(gateway, entry, client, log, cpuProfDir);
  const out = new Map<Mode, Sample>();
  try {
    await running.session.run({
      messages: opts.warmup,
      window: opts.window,
      timeoutMs: phaseTimeoutMs(opts.warmup),
    });
    out.set(
      'saturate',
      await measurePhase(running, {
        messages: opts.messages,
        window: opts.window,
        timeoutMs: phaseTimeoutMs(opts.messages),
      }),
    );
    const steadyMessages = Math.round(opts.rate * opts.seconds);
    out.set(
      `steady-${opts.rate}`,
      await measurePhase(running, {
        messages: steadyMessages,
        window: opts.window,
        rate: opts.rate,
        timeoutMs: phaseTimeoutMs(steadyMessages, opts.rate),
      }),
    );
  } finally {
    await running.proc.stop();
    running.session.close();
  }
  return out;
}

async function run(ctx: SuiteContext): Promise<void> {
  const o = ctx.options;
  const opts = withDefaults(o, DEFAULTS);
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
      entries.set(client, await bundleClient(client, `bench/stream/clients/${client}.ts`));
    } catch (err) {
      failures.set(client, `build failed: ${err instanceof Error ? err.message : String(err)}`);
      ctx.log(`stream: ${client} ${failures.get(client)}`);
    }
  }
  const gateway = await BenchGateway.start(ctx.log, ctx.options.gatewayWrites);
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
    return list && list.length > 0 ? summarize(list) : undefined;
  };

  for (const client of wanted) {
    const failed = failures.get(client);
    for (const mode of ['saturate', steadyMode] as const) {
      const s = summary(client, mode);
      const row: BenchRow = { suite: 'stream', client, mode };
      if (s) {
        Object.assign(row, {
          ...sampleColumns(s, {
            messages: mode === 'saturate' ? opts.messages : Math.round(opts.rate * opts.seconds),
            window: opts.window,
            rounds: samples.get(client)?.get(mode)?.length ?? 0,
          }),
          gw_lag_p99_ms: round(s.gw_lag_p99_ms, 2),
          gw_cpu_us_per_msg: round(s.gw_cpu_us_per_msg, 2),
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
  ctx.emit(
    targetRow(
      'stream',
      'cpu_us_per_msg ours/floor (saturate)',
      ours && floor ? ours.cpu_us_per_msg / floor.cpu_us_per_msg : undefined,
      '<=',
      1.5,
    ),
  );
  ctx.emit(
    targetRow(
      'stream',
      'msgs_per_s ours/official (saturate)',
      ours && official ? ours.msgs_per_s / official.msgs_per_s : undefined,
      '>=',
      0.9,
    ),
  );
  ctx.emit(targetRow('stream', `p99_ms ours (${steadyMode})`, oursSteady?.p99_ms, '<', 2));
}

export const streamSuite: Suite = {
  name: 'stream',
  description:
    'Stream client cost: floor (raw ws) vs official dingtalk-stream vs ours, Graph CALLBACKs against a local gateway',
  run,
};
