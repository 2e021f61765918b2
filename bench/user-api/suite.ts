/**
 * The user-api suite: skills that call `contact.me` through the sandbox with the user's delegated token.
 * Invocations per second, and the TCP connections the sandbox accepted for them, which must stay at or
 * under the app's OpenAPI pool size. Cases: `raised` (outbound limit raised so it never binds, invoked in
 * process), `raised-stream` (the same, each invocation a Graph CALLBACK over the Stream connection) and
 * `default-20qps` (DingTalk's 20 QPS per API: the rate is the limit, by design).
 */
import { importBundled } from '../shared/bundle.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { UserApiCase } from './workload.js';

const RAISED_QPS = 1_000_000;
const DEFAULTS = { messages: 10_000, window: 32, warmup: 200, seconds: 3 };
/** The raised cases stop after this long even if `--messages` were not done. */
const RAISED_MAX_SECONDS = 60;
const CASE_NAMES = ['raised', 'raised-stream', 'default-20qps'] as const;

export const userApiSuite: Suite = {
  name: 'user-api',
  description:
    'skills calling contact.me through the sandbox: invocations/s and TCP connections opened (<= pool size); raised and default 20 QPS limit',
  async run(ctx: SuiteContext) {
    const o = ctx.options;
    const names = o.clients ?? [...CASE_NAMES];
    const unknown = names.filter((n) => !(CASE_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0)
      throw new Error(`user-api: unknown case(s) ${unknown.join(', ')}; known: ${CASE_NAMES.join(', ')}`);
    const n = o.messages ?? DEFAULTS.messages;
    const all: Record<(typeof CASE_NAMES)[number], UserApiCase> = {
      raised: {
        name: 'raised',
        appQps: RAISED_QPS,
        via: 'direct',
        invocations: n,
        seconds: RAISED_MAX_SECONDS,
      },
      'raised-stream': {
        name: 'raised-stream',
        appQps: RAISED_QPS,
        via: 'stream',
        invocations: n,
        seconds: RAISED_MAX_SECONDS,
      },
      'default-20qps': {
        name: 'default-20qps',
        appQps: undefined,
        via: 'direct',
        invocations: n,
        seconds: o.seconds ?? DEFAULTS.seconds,
      },
    };
    const cases = CASE_NAMES.filter((c) => names.includes(c)).map((c) => all[c]);
    const config = { cases, window: o.window ?? DEFAULTS.window, warmup: o.warmup ?? DEFAULTS.warmup };
    ctx.log(
      `user-api: ${names.join(', ')}; ${n} invocations per raised case (window ${config.window}, warm-up ${config.warmup}), default-20qps for ${all['default-20qps'].seconds} s`,
    );
    const { runUserApi } = await importBundled<typeof import('./workload.js')>(
      'user-api-workload',
      'bench/user-api/workload.ts',
    );
    const results = await runUserApi(config, ctx.log);
    for (const r of results) {
      ctx.emit({
        suite: 'user-api',
        case: r.name,
        via: r.via,
        app_qps_limit: r.appQps ?? 20,
        invocations_per_s: Math.round(r.invocationsPerS * 10) / 10,
        p50_ms: Math.round(r.p50Ms * 1000) / 1000,
        p99_ms: Math.round(r.p99Ms * 1000) / 1000,
        tcp_connections: r.tcpConnections,
        pool_size: r.poolSize,
        n: r.n,
        calls: r.calls,
        errors: r.errors,
        window: config.window,
      });
    }
    for (const r of results)
      ctx.emit({
        suite: 'user-api',
        target: `tcp_connections (${r.name}, ${r.calls} calls) <= pool_size`,
        value: r.tcpConnections,
        op: '<=',
        limit: r.poolSize,
        pass: r.tcpConnections <= r.poolSize,
      });
  },
};
