/**
 * The app-calls suite: the skill path without the socket. `SkillsApp.handleGraph` is called in a loop
 * with the app suite's Graph CALLBACK (`createCustomer`: zod input and output), one at a time, each
 * answer checked, in the bench process from an esbuild bundle (`calls-workload.ts`). Variants: `full`
 * (one async middleware and Prometheus metrics, as the `ours-app` client), `no-metrics`,
 * `no-middleware`, so the cost of each part is the difference. Per variant: the fastest and the median
 * round in µs per call. No gateway, no child process: far less noise than the process harness, so a
 * change of a few tenths of a µs shows; it does not measure frames, the socket or scheduling (the `app`
 * suite does).
 */
import { importBundled } from '../shared/bundle.js';
import { withDefaults } from '../shared/options.js';
import { median, round } from '../shared/stats.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { Variant } from './calls-workload.js';

const DEFAULTS = { messages: 60_000, warmup: 50_000, rounds: 9 };

async function run(ctx: SuiteContext): Promise<void> {
  const opts = withDefaults(ctx.options, DEFAULTS);
  const { VARIANTS, makeApp, timeCalls } = await importBundled<typeof import('./calls-workload.js')>(
    'app-calls',
    'bench/app/calls-workload.ts',
  );
  const wanted = ctx.options.clients ?? [...VARIANTS];
  const unknown = wanted.filter((c) => !(VARIANTS as readonly string[]).includes(c));
  if (unknown.length > 0)
    throw new Error(`unknown app-calls variant(s): ${unknown.join(', ')} (known: ${VARIANTS.join(', ')})`);
  const apps = (wanted as Variant[]).map((variant) => ({
    variant,
    ...makeApp(variant),
    rounds: [] as number[],
  }));
  for (const a of apps) {
    ctx.log(`app-calls: warm-up ${a.variant} (${opts.warmup} calls)`);
    await timeCalls(a.app, opts.warmup);
  }
  // Variants interleaved per round, so a burst of outside load falls on all of them.
  for (let r = 0; r < opts.rounds; r++) {
    for (const a of apps) a.rounds.push(await timeCalls(a.app, opts.messages));
    ctx.log(`app-calls: round ${r + 1}/${opts.rounds}`);
  }
  for (const a of apps) {
    if (a.variant !== 'no-middleware' && a.ran() === 0)
      throw new Error(`${a.variant}: the middleware never ran`);
    const sorted = [...a.rounds].sort((x, y) => x - y);
    ctx.emit({
      suite: 'app-calls',
      variant: a.variant,
      us_per_call_min: round(sorted[0] as number, 2),
      us_per_call_median: round(median(sorted), 2),
      calls_per_round: opts.messages,
      rounds: opts.rounds,
    });
  }
}

export const appCallsSuite: Suite = {
  name: 'app-calls',
  description:
    'SkillsApp.handleGraph in a loop, in process (zod skill in/out; full, no-metrics, no-middleware): µs per call',
  run,
};
