/**
 * The e2e suite: full round trips through the sandbox and the example app in this process (assistant ->
 * Stream -> skill -> OpenAPI -> answer), per second and p50/p99 latency, with a valid user token. Cases:
 * the app's default outbound limit (DingTalk's 20 QPS per API, so the number is the limit, by design),
 * and a raised limit (what the path itself costs), in-process and over the sandbox's HTTP control API.
 */
import { importBundled } from '../shared/bundle.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { E2ECase, E2EConfig } from './workload.js';

/** A limit that never binds here (the SDK's limiter keeps a slot per QPS, so not Infinity). */
const RAISED_QPS = 100_000;

const CASES: Record<string, E2ECase> = {
  'default-20qps': { name: 'default-20qps', appQps: undefined, via: 'assistant.invoke' },
  raised: { name: 'raised', appQps: RAISED_QPS, via: 'assistant.invoke' },
  'raised-http': { name: 'raised-http', appQps: RAISED_QPS, via: 'http' },
};
const DEFAULTS = { messages: 20_000, seconds: 5, warmup: 200, window: 16 };

export const e2eSuite: Suite = {
  name: 'e2e',
  description:
    'assistant -> Stream -> skill -> OpenAPI -> answer round trips/s and p50/p99 (whoami, valid token), default and raised app QPS limit',
  async run(ctx: SuiteContext) {
    const o = ctx.options;
    const names = o.clients ?? Object.keys(CASES);
    const unknown = names.filter((n) => !(n in CASES));
    if (unknown.length > 0)
      throw new Error(`e2e: unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);
    const config: E2EConfig = {
      cases: names.map((n) => CASES[n]!),
      maxRoundTrips: o.messages ?? DEFAULTS.messages,
      seconds: o.seconds ?? DEFAULTS.seconds,
      warmup: o.warmup ?? DEFAULTS.warmup,
      window: o.window ?? DEFAULTS.window,
    };
    ctx.log(
      `e2e: ${names.join(', ')}; up to ${config.maxRoundTrips} round trips or ${config.seconds} s per case, window ${config.window}`,
    );
    // Bundled with the SDK, the sandbox and the example app from source, so a stale `dist` is never measured.
    const { runE2E } = await importBundled<typeof import('./workload.js')>(
      'e2e-workload',
      'bench/e2e/workload.ts',
    );
    for (const r of await runE2E(config, ctx.log))
      ctx.emit({
        suite: 'e2e',
        case: r.name,
        via: r.via,
        app_qps_limit: r.appQps ?? 20,
        round_trips_per_s: Math.round(r.roundTripsPerS * 10) / 10,
        p50_ms: Math.round(r.p50Ms * 1000) / 1000,
        p99_ms: Math.round(r.p99Ms * 1000) / 1000,
        n: r.n,
        errors: r.errors,
        window: config.window,
      });
  },
};
