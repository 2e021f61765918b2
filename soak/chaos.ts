/**
 * The chaos: faults injected at random moments of a soak, through the sandbox's own fault hooks
 * (the same ones its control API exposes). Stream side: abrupt drops (no close frame), SYSTEM
 * `disconnect`, withheld acks (ignored as if never received) and late acks; OpenAPI side: slow calls,
 * 5xx, 504 after a delay, the QPS limit, and expired access tokens (the app must refresh). Duplicate
 * deliveries are a per-event flag of the event traffic (see `traffic-events.ts`).
 */
import type { Sandbox } from '@dingtalk-skills/sandbox';
import type { Random } from './random.js';

/** Every kind of fault the soak injects. */
export const FAULT_KINDS = [
  'drop',
  'disconnect',
  'duplicate',
  'withheldAcks',
  'lateAcks',
  'slowOpenApi',
  'openApi5xx',
  'openApi504',
  'qpsLimit',
  'tokenExpiry',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds the scheduler injects at moments (duplicates ride on events instead). */
const TIMED_KINDS = FAULT_KINDS.filter((k) => k !== 'duplicate');

export interface ChaosOptions {
  sandbox: Sandbox;
  clientId: string;
  users: readonly string[];
  random: Random;
  /** How many of each timed kind over the run. */
  perKind: number;
  /** The gateway's ack timeout (late acks straddle it). */
  ackTimeoutMs: number;
  log: (line: string) => void;
}

/** One injected fault (for the report's timeline). */
export interface FaultRecord {
  kind: FaultKind;
  /** ms since the traffic started. */
  at: number;
  detail: string;
}

/** Injects faults on a random schedule spread over the traffic's duration, and clears them after. */
export class Chaos {
  readonly counts: Record<FaultKind, number>;
  readonly skipped: Record<string, number> = {};
  readonly timeline: FaultRecord[] = [];
  readonly #o: ChaosOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  #started = 0;
  /** The owner of the current ack fault / QPS limit: a window only reverts what it set. */
  #ackToken = 0;
  #qpsToken = 0;

  constructor(options: ChaosOptions) {
    this.#o = options;
    this.counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  }

  /** Schedules `perKind` faults of every timed kind at random moments in [5%, 85%] of `durationMs`. */
  start(durationMs: number): void {
    this.#started = Date.now();
    const { random, perKind } = this.#o;
    for (const kind of TIMED_KINDS)
      for (let i = 0; i < perKind; i++) {
        const at = Math.round(durationMs * (0.05 + 0.8 * random.next()));
        this.#later(at, () => {
          this.inject(kind).catch((err: unknown) => {
            this.skipped[kind] = (this.skipped[kind] ?? 0) + 1;
            this.#o.log(`fault ${kind} not injected: ${err instanceof Error ? err.message : String(err)}`);
          });
        });
      }
  }

  /** Counts a duplicate delivery asked of the gateway. */
  duplicateSent(): void {
    this.counts.duplicate++;
  }

  /** Cancels what is still scheduled and clears every fault in force. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const { sandbox } = this.#o;
    this.#ackToken++;
    this.#qpsToken++;
    sandbox.gateway.setAckFault({ mode: 'none' });
    sandbox.platform.faults.clear();
    sandbox.platform.qps.limit = 0;
  }

  /** Injects one fault of `kind` now. */
  async inject(kind: FaultKind): Promise<void> {
    const { sandbox, random, clientId } = this.#o;
    let detail: string | undefined;
    switch (kind) {
      case 'drop':
      case 'disconnect': {
        const live = sandbox.gateway
          .listConnections()
          .filter((c) => c.appId === clientId && c.state === 'open');
        if (live.length === 0) break;
        const conn = random.pick(live);
        if (kind === 'drop') await sandbox.gateway.drop(conn.id);
        else sandbox.gateway.disconnect(conn.id, 'soak: disconnect');
        detail = conn.id;
        break;
      }
      case 'withheldAcks': {
        const ms = random.int(300, 1_500);
        this.#ackWindow({ mode: 'withhold' }, ms);
        detail = `${ms} ms`;
        break;
      }
      case 'lateAcks': {
        // Half of the windows stay under the ack timeout (late but in time), half go over it (redelivery).
        const delayMs = random.chance(0.5)
          ? random.int(50, Math.max(60, this.#o.ackTimeoutMs - 200))
          : random.int(this.#o.ackTimeoutMs + 100, this.#o.ackTimeoutMs * 2);
        const ms = random.int(300, 1_500);
        this.#ackWindow({ mode: 'delay', delayMs }, ms);
        detail = `${delayMs} ms late for ${ms} ms`;
        break;
      }
      case 'slowOpenApi': {
        const delayMs = random.int(200, 1_500);
        const times = random.int(3, 15);
        sandbox.platform.faults.apply({ path: '*', mode: 'delay', delayMs, times });
        detail = `${times} calls ${delayMs} ms slower`;
        break;
      }
      case 'openApi5xx': {
        const status = random.pick([500, 502, 503] as const);
        const times = random.int(2, 6);
        sandbox.platform.faults.apply({ path: '*', mode: 'status', status, times });
        detail = `${times} calls answer ${status}`;
        break;
      }
      case 'openApi504': {
        const delayMs = random.int(200, 1_000);
        const times = random.int(1, 4);
        sandbox.platform.faults.apply({ path: '*', mode: 'status', status: 504, delayMs, times });
        detail = `${times} calls answer 504 after ${delayMs} ms`;
        break;
      }
      case 'qpsLimit': {
        const limit = random.int(1, 3);
        const ms = random.int(500, 2_000);
        const token = ++this.#qpsToken;
        sandbox.platform.qps.limit = limit;
        this.#later(ms, () => {
          if (this.#qpsToken === token) sandbox.platform.qps.limit = 0;
        });
        detail = `${limit} QPS for ${ms} ms`;
        break;
      }
      case 'tokenExpiry': {
        const userId = random.pick(this.#o.users);
        const res = await fetch(`${sandbox.url}/sandbox/users/${userId}/expire-token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ clientId }),
        });
        const body = (await res.json()) as { expired?: number };
        detail = `${userId}: ${body.expired ?? 0} access token(s) expired`;
        break;
      }
      case 'duplicate':
        break;
    }
    if (detail === undefined) {
      this.skipped[kind] = (this.skipped[kind] ?? 0) + 1;
      return;
    }
    this.counts[kind]++;
    const at = Date.now() - this.#started;
    this.timeline.push({ kind, at, detail });
    this.#o.log(`fault ${kind} at ${(at / 1000).toFixed(1)} s: ${detail}`);
  }

  #ackWindow(fault: Parameters<Sandbox['gateway']['setAckFault']>[0], ms: number): void {
    const token = ++this.#ackToken;
    this.#o.sandbox.gateway.setAckFault(fault);
    this.#later(ms, () => {
      if (this.#ackToken === token) this.#o.sandbox.gateway.setAckFault({ mode: 'none' });
    });
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}
