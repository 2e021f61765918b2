/**
 * Running one client process against the bench gateway, shared by the stream and skills suites: start the
 * process on a fresh connection, and measure a phase (the child counts its CPU and RSS between `begin`
 * and `end` while the gateway drives the messages).
 */
import { ClientProcess } from './client-process.js';
import type { ClientName } from './clients/types.js';
import type { BenchGateway, GatewaySession, PhaseSpec } from './gateway.js';
import { type Sample, toSample } from './sample.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET } from './workload.js';

const START_TIMEOUT_MS = 20_000;
const IPC_TIMEOUT_MS = 5_000;

/** A started client process and its gateway session; stop both when done. */
export interface StartedClient {
  proc: ClientProcess;
  session: GatewaySession;
}

/**
 * Forks `entry` (a bundle from bundle.ts) and waits for its connection to the gateway. `client` is what
 * child.ts hands to the client's `start()`; it only names it.
 */
export async function startClient(
  gateway: BenchGateway,
  entry: string,
  client: ClientName,
  log: (line: string) => void,
  cpuProfDir: string | undefined,
): Promise<StartedClient> {
  const sessionP = gateway.nextSession(START_TIMEOUT_MS);
  // If the child fails to start, nobody awaits sessionP: keep its rejection from going unhandled.
  sessionP.catch(() => undefined);
  const proc = await ClientProcess.start(
    entry,
    { client, apiBase: gateway.apiBase, clientId: BENCH_CLIENT_ID, clientSecret: BENCH_CLIENT_SECRET },
    START_TIMEOUT_MS,
    log,
    cpuProfDir,
  );
  const session = await sessionP.catch(async (err: unknown) => {
    await proc.stop();
    throw err;
  });
  return { proc, session };
}

/** How long a phase of `messages` may take: 2 ms a message, or 3x the phase's length at `rate`; at least 10 s. */
export function phaseTimeoutMs(messages: number, rate?: number): number {
  return Math.max(10_000, rate ? (messages * 3000) / rate : messages * 2);
}

/**
 * Runs one measured phase: child starts counting, the gateway drives the phase, child stops counting.
 * The gateway's own CPU (this process) over the phase is kept too.
 */
export async function measurePhase({ proc, session }: StartedClient, spec: PhaseSpec): Promise<Sample> {
  await proc.request({ type: 'begin' }, 'begun', IPC_TIMEOUT_MS);
  const gatewayCpu = process.cpuUsage();
  const result = await session.run(spec);
  const { user, system } = process.cpuUsage(gatewayCpu);
  const measured = await proc.request({ type: 'end' }, 'measured', IPC_TIMEOUT_MS);
  return toSample(result, measured, user + system);
}
