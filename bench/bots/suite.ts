/**
 * The bots suite: 100 (`--messages`) conversations stream AI card replies at once through the sandbox
 * with its card QPS limit on. Cases: `paced` (the pacer at the limit: no 403 expected) and `overdriven`
 * (the pacer set to twice the limit: 403s, pauses, and still nothing lost). Rows carry the total time,
 * the 403s, `lost`, `max_card_qps` (most card calls the sandbox saw in any second) and `limit_qps`.
 */
import { importBundled } from '../shared/bundle.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { BotsCase } from './workload.js';

const LIMIT_QPS = 20;
const CASES: Record<string, BotsCase> = {
  paced: { name: 'paced', limitQps: LIMIT_QPS, pacerQps: LIMIT_QPS, windowMs: 1100 },
  overdriven: { name: 'overdriven', limitQps: LIMIT_QPS, pacerQps: LIMIT_QPS * 2, windowMs: 1000 },
};
const DEFAULTS = { conversations: 100, chunks: 40, chunkMs: 200, intervalMs: 800 };

export const botsSuite: Suite = {
  name: 'bots',
  description: `100 conversations streaming AI card replies at once through the sandbox's card QPS limit (${LIMIT_QPS}/s): total time, 403s, lost, max card QPS`,
  async run(ctx: SuiteContext) {
    const names = ctx.options.clients ?? Object.keys(CASES);
    const unknown = names.filter((n) => !(n in CASES));
    if (unknown.length > 0)
      throw new Error(`bots: unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);
    const config = {
      cases: names.map((n) => CASES[n]!),
      conversations: ctx.options.messages ?? DEFAULTS.conversations,
      chunks: DEFAULTS.chunks,
      chunkMs: DEFAULTS.chunkMs,
      intervalMs: DEFAULTS.intervalMs,
    };
    const { runBots } = await importBundled<typeof import('./workload.js')>(
      'bots-workload',
      'bench/bots/workload.ts',
    );
    const results = await runBots(config, ctx.log);
    for (const r of results)
      ctx.emit({
        suite: 'bots',
        case: r.name,
        conversations: r.conversations,
        total_ms: Math.round(r.totalMs),
        finish_p50_ms: Math.round(r.finishP50Ms),
        finish_p99_ms: Math.round(r.finishP99Ms),
        card_calls: r.cardCalls,
        qps_403: r.qps403,
        max_card_qps: r.maxCardQps,
        limit_qps: r.limitQps,
        pacer_qps: r.pacerQps,
        frames_per_reply: Math.round(r.framesPerReply * 10) / 10,
        cards: r.cards,
        fallbacks: r.fallbacks,
        lost: r.lost,
      });
    for (const r of results) {
      ctx.emit({
        suite: 'bots',
        target: `lost (${r.name})`,
        value: r.lost,
        op: '==',
        limit: 0,
        pass: r.lost === 0,
      });
      // The paced case keeps its pacer at the limit: the sandbox should see no second above it.
      if (r.pacerQps <= r.limitQps)
        ctx.emit({
          suite: 'bots',
          target: `max_card_qps (${r.name}) <= limit_qps`,
          value: r.maxCardQps,
          op: '<=',
          limit: r.limitQps,
          pass: r.maxCardQps <= r.limitQps,
        });
    }
  },
};
