/**
 * The mcp suite (issue 15): MCP tool calls per second and p50/p99 for a user-token skill (`whoami` of the
 * example app: our bearer token checked in Redis, then DingTalk's OpenAPI as 张三) against the same skill
 * over Stream (the sandbox's assistant -> Graph CALLBACK), on one and on two instances sharing Redis.
 * Everything runs in the bench process (sandbox, apps, load), like the e2e suite.
 */
import { importBundled } from '../shared/bundle.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { McpBenchConfig, McpCase } from './workload.js';

const CASES: Record<string, McpCase> = {
  'stream-1': { name: 'stream-1', via: 'stream', instances: 1 },
  'mcp-1': { name: 'mcp-1', via: 'mcp', instances: 1 },
  'stream-2': { name: 'stream-2', via: 'stream', instances: 2 },
  'mcp-2': { name: 'mcp-2', via: 'mcp', instances: 2 },
};
const DEFAULTS = { messages: 20_000, seconds: 5, warmup: 200, window: 16 };

export const mcpSuite: Suite = {
  name: 'mcp',
  description:
    'MCP tools/call vs Stream (assistant CALLBACK) calls/s and p50/p99 for a user-token skill (whoami), one and two instances on Redis',
  async run(ctx: SuiteContext) {
    const o = ctx.options;
    const names = o.clients ?? Object.keys(CASES);
    const unknown = names.filter((n) => !(n in CASES));
    if (unknown.length > 0)
      throw new Error(`mcp: unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);
    const config: McpBenchConfig = {
      cases: names.map((n) => CASES[n]!),
      maxCalls: o.messages ?? DEFAULTS.messages,
      seconds: o.seconds ?? DEFAULTS.seconds,
      warmup: o.warmup ?? DEFAULTS.warmup,
      window: o.window ?? DEFAULTS.window,
    };
    ctx.log(
      `mcp: ${names.join(', ')}; up to ${config.maxCalls} calls or ${config.seconds} s per case, window ${config.window}`,
    );
    const { runMcpBench } = await importBundled<typeof import('./workload.js')>(
      'mcp-workload',
      'bench/mcp/workload.ts',
    );
    for (const r of await runMcpBench(config, ctx.log))
      ctx.emit({
        suite: 'mcp',
        case: r.name,
        via: r.via,
        instances: r.instances,
        calls_per_s: Math.round(r.callsPerS * 10) / 10,
        p50_ms: Math.round(r.p50Ms * 1000) / 1000,
        p99_ms: Math.round(r.p99Ms * 1000) / 1000,
        n: r.n,
        errors: r.errors,
        window: config.window,
      });
  },
};
