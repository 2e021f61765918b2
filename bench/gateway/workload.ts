/**
 * The gateway workload, run inside the bench process (bundled with the sandbox from source): one sandbox
 * (`createSandbox`), one raw `ws` reader in its own process (`reader.ts`), and the gateway's benchmark
 * hook (`sandbox.gateway.blast`) sending CALLBACK frames to it as fast as the socket takes them.
 * Modes: `read` (the reader only counts frames) and `ack` (it parses and acks each one; the blast waits
 * for every ack).
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { ReaderProcess } from './reader-process.js';

export type GatewayMode = 'read' | 'ack';

export interface GatewayBenchConfig {
  /** The bundled reader (`reader.ts`). */
  readerEntry: string;
  modes: readonly GatewayMode[];
  /** Frames per measured blast. */
  frames: number;
  /** Frames of the warm-up blast per mode (not measured). */
  warmup: number;
  rounds: number;
}

/** One measured blast. */
export interface GatewayRun {
  mode: GatewayMode;
  round: number;
  frames: number;
  bytes: number;
  /**
   * Frames per second. `read`: blast start (gateway) -> last frame read (reader). `ack`: blast start ->
   * last ack counted by the gateway (the blast's own figure).
   */
  msgsPerS: number;
  /** `read` only: frames handed to the socket per second (the blast's own figure). */
  sentPerS: number;
  /** Acks the gateway counted (`ack` mode). */
  acked: number | undefined;
  /** CPU of the bench process (the sandbox) per frame, µs. */
  gatewayCpuUsPerFrame: number;
  /** CPU of the reader per frame, µs. */
  readerCpuUsPerFrame: number;
}

const START_TIMEOUT_MS = 20_000;
const epochMs = () => performance.timeOrigin + performance.now();

/** Starts a sandbox and a reader, blasts `rounds` x modes, closes everything. */
export async function runGatewayBench(
  config: GatewayBenchConfig,
  log: (line: string) => void,
): Promise<GatewayRun[]> {
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  let reader: ReaderProcess | undefined;
  try {
    const connected = sandbox.gateway.waitForConnection({ clientId: SEED_APP.clientId }, START_TIMEOUT_MS);
    connected.catch(() => undefined);
    reader = await ReaderProcess.start(
      config.readerEntry,
      { apiBase: sandbox.url, clientId: SEED_APP.clientId, clientSecret: SEED_APP.clientSecret },
      START_TIMEOUT_MS,
    );
    const conn = await connected;
    const blast = async (mode: GatewayMode, frames: number) => {
      const timeoutMs = Math.max(30_000, frames / 5);
      await reader!.request({ type: 'expect', count: frames, ack: mode === 'ack' }, 'armed', 5_000);
      const received = reader!.expect('received', timeoutMs);
      received.catch(() => undefined);
      const cpu0 = process.cpuUsage();
      const startedAt = epochMs();
      const result = await sandbox.gateway.blast(conn.id, {
        count: frames,
        awaitAcks: mode === 'ack',
        ackTimeoutMs: timeoutMs,
      });
      const seen = await received;
      const cpu = process.cpuUsage(cpu0);
      if (result.sent !== frames || seen.count !== frames)
        throw new Error(`blast ${mode}: sent ${result.sent}, read ${seen.count} of ${frames}`);
      if (mode === 'ack' && result.acked !== frames)
        throw new Error(`blast ack: the gateway counted ${result.acked} acks of ${frames}`);
      return { result, seen, cpuUs: cpu.user + cpu.system, startedAt };
    };
    for (const mode of config.modes) await blast(mode, config.warmup);
    const runs: GatewayRun[] = [];
    for (let round = 1; round <= config.rounds; round++) {
      for (const mode of config.modes) {
        const { result, seen, cpuUs, startedAt } = await blast(mode, config.frames);
        const run: GatewayRun = {
          mode,
          round,
          frames: config.frames,
          bytes: result.bytes,
          msgsPerS:
            mode === 'ack'
              ? (config.frames * 1000) / result.ms
              : (config.frames * 1000) / (seen.lastAt - startedAt),
          sentPerS: result.framesPerSecond,
          acked: result.acked,
          gatewayCpuUsPerFrame: cpuUs / config.frames,
          readerCpuUsPerFrame: seen.cpuUs / config.frames,
        };
        log(
          `gateway: round ${round} ${mode}: ${Math.round(run.msgsPerS)} frames/s ${mode === 'ack' ? 'acked' : `read (${run.sentPerS}/s sent)`}, gateway ${run.gatewayCpuUsPerFrame.toFixed(1)} µs/frame, reader ${run.readerCpuUsPerFrame.toFixed(1)} µs/frame`,
        );
        runs.push(run);
      }
    }
    return runs;
  } finally {
    await reader?.stop();
    await sandbox.close();
  }
}
