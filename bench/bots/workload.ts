/**
 * The bots workload, run inside the bench process (bundled with the SDK and the sandbox from source):
 * one sandbox with its card QPS limit on, one app (`AiCards` over the seed app's OpenAPI client), and
 * `conversations` replies streamed at once, each `chunks` appends `chunkMs` apart (an LLM's pace), then
 * finished. Every reply's text is checked where it landed: the card (read back from the sandbox's
 * control API) or the markdown fallback; a reply that reached neither is lost.
 */
import { performance } from 'node:perf_hooks';
import { cardRegistryOf, createSandbox, SEED_APP, SEED_USERS } from '@dingtalk-skills/sandbox';
import { AiCards, type CardFallback, createOpenApiClient, silentLogger } from '@dingtalk-skills/sdk';
import { quantile } from '../shared/stats.js';

export interface BotsCase {
  /** Row label. */
  name: string;
  /** The sandbox's card QPS limit for the app (all card APIs together). */
  limitQps: number;
  /** The app's pacer: card calls per window, and the window. */
  pacerQps: number;
  windowMs: number;
}

export interface BotsConfig {
  cases: readonly BotsCase[];
  conversations: number;
  chunks: number;
  chunkMs: number;
  intervalMs: number;
}

export interface BotsResult {
  name: string;
  conversations: number;
  limitQps: number;
  pacerQps: number;
  totalMs: number;
  /** finish() -> result, per reply. */
  finishP50Ms: number;
  finishP99Ms: number;
  cardCalls: number;
  qps403: number;
  /** Most card calls that reached the sandbox within any one second (sliding), 403s included. */
  maxCardQps: number;
  /** Content frames per reply (mean), the final frame included. */
  framesPerReply: number;
  cards: number;
  fallbacks: number;
  lost: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runBots(config: BotsConfig, log: (line: string) => void): Promise<BotsResult[]> {
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  const registry = cardRegistryOf(sandbox.platform);
  const results: BotsResult[] = [];
  try {
    for (const c of config.cases) {
      registry.clear();
      registry.qps.limit = c.limitQps;
      registry.qps.resetStats();
      const client = createOpenApiClient({
        apiBase: sandbox.url,
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        logger: silentLogger(),
        rateLimit: false, // the card pacer is what is measured
      });
      const fallbacks = new Map<string, CardFallback>();
      const ai = new AiCards({
        openapi: client,
        qps: c.pacerQps,
        windowMs: c.windowMs,
        intervalMs: config.intervalMs,
        finishTimeoutMs: 120_000,
        logger: silentLogger(),
        fallback: async (f) => void fallbacks.set(f.outTrackId, f),
      });
      await client.app.getAccessToken();
      log(
        `bots ${c.name}: ${config.conversations} replies x ${config.chunks} chunks, card limit ${c.limitQps}/s, pacer ${c.pacerQps}/${c.windowMs} ms`,
      );
      const started = performance.now();
      const finishMs: number[] = [];
      const replies = Array.from({ length: config.conversations }, async (_, i) => {
        const user = SEED_USERS[i % SEED_USERS.length]!.userId;
        const target =
          i % 2 === 0
            ? ({ kind: 'user', userId: user } as const)
            : ({ kind: 'group', openConversationId: `cidBench${i}` } as const);
        const stream = ai.start(target);
        let expected = '';
        for (let k = 0; k < config.chunks; k++) {
          const part = `第${k}段 reply ${i} chunk ${k}. `;
          expected += part;
          stream.append(part);
          await sleep(config.chunkMs);
        }
        const t = performance.now();
        const result = await stream.finish();
        finishMs.push(performance.now() - t);
        return { stream, expected, result };
      });
      const done = await Promise.all(replies);
      const totalMs = performance.now() - started;
      const sorted = Float64Array.from(finishMs).sort();
      let cards = 0;
      let lost = 0;
      let frames = 0;
      for (const { stream, expected, result } of done) {
        frames += result.frames;
        const card = registry.get(stream.outTrackId);
        if (
          result.outcome === 'card' &&
          card?.params.msgContent === expected &&
          card.params.flowStatus === '3'
        )
          cards += 1;
        else if (fallbacks.get(stream.outTrackId)?.text !== expected) lost += 1;
      }
      const stats = registry.qps.stats();
      results.push({
        name: c.name,
        conversations: config.conversations,
        limitQps: c.limitQps,
        pacerQps: c.pacerQps,
        totalMs,
        finishP50Ms: quantile(sorted, 0.5),
        finishP99Ms: quantile(sorted, 0.99),
        cardCalls: stats.calls,
        qps403: stats.qpsRejected,
        maxCardQps: stats.maxArrivalQps,
        framesPerReply: frames / done.length,
        cards,
        fallbacks: fallbacks.size,
        lost,
      });
      await ai.close();
      await client.close();
    }
  } finally {
    await sandbox.close();
  }
  return results;
}
