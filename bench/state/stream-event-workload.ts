/**
 * The `stream-event` case of the state suite, run inside the bench process (bundled with the sandbox from
 * source): the sandbox's gateway blasts EVENT frames (unique event ids) at one child process running ours
 * with its dedup in memory or on Redis, waiting for every ack. Measured per blast: the child's CPU per
 * message, messages per second (blast start -> last ack) and, for Redis, redis-server's own CPU per
 * message (`INFO cpu`).
 */
import { createSandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { Redis } from 'ioredis';
import { ClientProcess } from '../stream/client-process.js';
import type { ChildArgs } from '../stream/ipc.js';

export type DedupKind = 'memory' | 'redis';

export interface StreamEventConfig {
  /** The bundled child (`stream-event-client.ts`). */
  clientEntry: string;
  kinds: readonly DedupKind[];
  /** `redis://127.0.0.1:<port>` of the bench's redis-server (needed for `redis`). */
  redisUrl: string | undefined;
  frames: number;
  warmup: number;
  rounds: number;
}

export interface StreamEventRun {
  kind: DedupKind;
  round: number;
  cpuUsPerMsg: number;
  msgsPerS: number;
  /** redis-server's CPU (user+sys) per message, µs; undefined for memory. */
  redisCpuUsPerMsg: number | undefined;
}

const START_TIMEOUT_MS = 20_000;
const IPC_TIMEOUT_MS = 5_000;

/** user+sys CPU seconds of redis-server from `INFO cpu`. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return read('used_cpu_user') + read('used_cpu_sys');
}

export async function runStreamEventBench(
  config: StreamEventConfig,
  log: (line: string) => void,
): Promise<StreamEventRun[]> {
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl);
  const runs: StreamEventRun[] = [];
  try {
    for (let round = 1; round <= config.rounds; round++) {
      for (const kind of config.kinds) {
        if (kind === 'redis' && (redis === undefined || config.redisUrl === undefined))
          throw new Error('stream-event: the redis case needs a redis-server');
        const connected = sandbox.gateway.waitForConnection(
          { clientId: SEED_APP.clientId },
          START_TIMEOUT_MS,
        );
        connected.catch(() => undefined);
        const args = {
          client: 'ours',
          apiBase: sandbox.url,
          clientId: SEED_APP.clientId,
          clientSecret: SEED_APP.clientSecret,
          dedup: kind === 'memory' ? 'memory:' : config.redisUrl,
        } as ChildArgs;
        const proc = await ClientProcess.start(config.clientEntry, args, START_TIMEOUT_MS, log);
        try {
          const conn = await connected;
          const blast = async (count: number) => {
            const result = await sandbox.gateway.blast(conn.id, {
              count,
              type: 'EVENT',
              awaitAcks: true,
              ackTimeoutMs: Math.max(30_000, count * 2),
            });
            if (result.sent !== count || result.acked !== count)
              throw new Error(`stream-event ${kind}: sent ${result.sent}, acked ${result.acked} of ${count}`);
            return result;
          };
          await blast(config.warmup);
          await proc.request({ type: 'begin' }, 'begun', IPC_TIMEOUT_MS);
          const redis0 = redis && kind === 'redis' ? await redisCpuSeconds(redis) : undefined;
          const result = await blast(config.frames);
          const redis1 = redis && kind === 'redis' ? await redisCpuSeconds(redis) : undefined;
          const measured = await proc.request({ type: 'end' }, 'measured', IPC_TIMEOUT_MS);
          const run: StreamEventRun = {
            kind,
            round,
            cpuUsPerMsg: (measured.cpuUserUs + measured.cpuSystemUs) / config.frames,
            msgsPerS: (config.frames * 1000) / result.ms,
            redisCpuUsPerMsg:
              redis0 === undefined || redis1 === undefined
                ? undefined
                : ((redis1 - redis0) * 1e6) / config.frames,
          };
          log(
            `state stream-event ${kind} round ${round}: ${run.cpuUsPerMsg.toFixed(1)} µs/msg (client), ${Math.round(run.msgsPerS)} msg/s${run.redisCpuUsPerMsg === undefined ? '' : `, redis-server ${run.redisCpuUsPerMsg.toFixed(1)} µs/msg`}`,
          );
          runs.push(run);
        } finally {
          await proc.stop();
        }
      }
    }
    return runs;
  } finally {
    redis?.disconnect();
    await sandbox.close();
  }
}
