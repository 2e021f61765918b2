/**
 * Rows of the state suite's `stream-event` case: what Redis dedup costs ours per Stream message (CPU
 * microseconds per EVENT, ours with dedup on Redis vs ours with the default in-memory dedup), measured in
 * a child process fed by the sandbox's blast hook. See `stream-event-workload.ts`.
 */
import { bundle, importBundled } from '../shared/bundle.js';
import { median } from '../shared/stats.js';
import type { BenchRow, SuiteContext } from '../suite.js';
import type { DedupKind, StreamEventRun } from './stream-event-workload.js';

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Runs the case for `kinds` and emits one row per kind plus the Redis overhead row. */
export async function streamEventRows(
  ctx: SuiteContext,
  opts: { messages: number; warmup: number; rounds: number },
  kinds: readonly DedupKind[],
  redisUrl: () => Promise<string>,
): Promise<void> {
  if (kinds.length === 0) return;
  const clientEntry = await bundle('state-stream-event-client', 'bench/state/stream-event-client.ts');
  const { runStreamEventBench } = await importBundled<typeof import('./stream-event-workload.js')>(
    'state-stream-event-workload',
    'bench/state/stream-event-workload.ts',
  );
  ctx.log(
    `state stream-event: ${opts.rounds} round(s) x [${kinds.join(', ')}]; ${opts.messages} EVENTs per blast, warm-up ${opts.warmup}`,
  );
  const runs = await runStreamEventBench(
    {
      clientEntry,
      kinds,
      redisUrl: kinds.includes('redis') ? await redisUrl() : undefined,
      frames: opts.messages,
      warmup: opts.warmup,
      rounds: opts.rounds,
    },
    ctx.log,
  );
  const medians = new Map<DedupKind, { cpu: number; rate: number; redisCpu: number | undefined }>();
  for (const kind of kinds) {
    const list = runs.filter((r: StreamEventRun) => r.kind === kind);
    const redisCpu = list.flatMap((r) => (r.redisCpuUsPerMsg === undefined ? [] : [r.redisCpuUsPerMsg]));
    const m = {
      cpu: median(list.map((r) => r.cpuUsPerMsg)),
      rate: median(list.map((r) => r.msgsPerS)),
      redisCpu: redisCpu.length > 0 ? median(redisCpu) : undefined,
    };
    medians.set(kind, m);
    const row: BenchRow = {
      suite: 'state',
      store: kind,
      op: 'stream-event',
      cpu_us_per_msg: round2(m.cpu),
      msgs_per_s: Math.round(m.rate),
      ops: opts.messages,
      rounds: list.length,
    };
    if (m.redisCpu !== undefined) row.redis_server_cpu_us_per_msg = round2(m.redisCpu);
    ctx.emit(row);
  }
  const memory = medians.get('memory');
  const redis = medians.get('redis');
  if (memory && redis)
    ctx.emit({
      suite: 'state',
      store: 'redis - memory',
      op: 'stream-event',
      cpu_us_per_msg: round2(redis.cpu - memory.cpu),
      ratio: round2(redis.cpu / memory.cpu),
    });
}
