/**
 * The gateway suite: how many frames per second the sandbox's gateway sustains to one raw client, read
 * only and read + ack. The sandbox runs in the bench process; the client (`reader.ts`) in its own.
 */

import { bundle, importBundled } from '../shared/bundle.js';
import { median } from '../shared/stats.js';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import type { GatewayMode, GatewayRun } from './workload.js';

const DEFAULTS = { messages: 100_000, warmup: 20_000, rounds: 3 };
const MODES: readonly GatewayMode[] = ['read', 'ack'];
/** The target of issue 3: frames per second to one raw client. */
const TARGET_MSGS_PER_S = 50_000;

async function run(ctx: SuiteContext): Promise<void> {
  const o = ctx.options;
  const modes = o.clients ?? [...MODES];
  const unknown = modes.filter((m) => !(MODES as readonly string[]).includes(m));
  if (unknown.length > 0)
    throw new Error(`gateway: unknown mode(s) ${unknown.join(', ')}; known: ${MODES.join(', ')}`);
  const config = {
    modes: modes as GatewayMode[],
    frames: o.messages ?? DEFAULTS.messages,
    warmup: o.warmup ?? DEFAULTS.warmup,
    rounds: o.rounds ?? DEFAULTS.rounds,
  };
  ctx.log(
    `gateway: ${config.rounds} round(s) x [${config.modes.join(', ')}]; ${config.frames} frames per blast, warm-up ${config.warmup}`,
  );
  const readerEntry = await bundle('gateway-reader', 'bench/gateway/reader.ts');
  const { runGatewayBench } = await importBundled<typeof import('./workload.js')>(
    'gateway-workload',
    'bench/gateway/workload.ts',
  );
  const runs = await runGatewayBench({ ...config, readerEntry }, ctx.log);

  const round1 = (v: number) => Math.round(v * 10) / 10;
  const byMode = new Map<GatewayMode, GatewayRun[]>();
  for (const r of runs) byMode.set(r.mode, [...(byMode.get(r.mode) ?? []), r]);
  for (const mode of config.modes) {
    const list = byMode.get(mode) ?? [];
    const pick = (f: (r: GatewayRun) => number) => median(list.map(f));
    const row: BenchRow = {
      suite: 'gateway',
      mode,
      msgs_per_s: Math.round(pick((r) => r.msgsPerS)),
      counted: mode === 'ack' ? 'first send -> last ack (gateway)' : 'first send -> last frame read (client)',
      gateway_cpu_us_per_msg: round1(pick((r) => r.gatewayCpuUsPerFrame)),
      reader_cpu_us_per_msg: round1(pick((r) => r.readerCpuUsPerFrame)),
      frame_bytes: list[0] ? Math.round(list[0].bytes / list[0].frames) : undefined,
      frames: config.frames,
      rounds: list.length,
    };
    ctx.emit(row);
  }
  for (const mode of config.modes) {
    const list = byMode.get(mode) ?? [];
    const value = list.length > 0 ? median(list.map((r) => r.msgsPerS)) : undefined;
    ctx.emit({
      suite: 'gateway',
      target: `msgs_per_s to one raw client (${mode})`,
      value: value === undefined ? null : Math.round(value),
      op: '>=',
      limit: TARGET_MSGS_PER_S,
      pass: value === undefined ? null : value >= TARGET_MSGS_PER_S,
    });
  }
}

export const gatewaySuite: Suite = {
  name: 'gateway',
  description:
    'sandbox gateway frames/s to one raw ws client (blast hook), reading only and reading + acking (--clients read,ack)',
  run,
};
