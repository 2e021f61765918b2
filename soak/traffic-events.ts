/**
 * EVENT traffic: pushes events through the sandbox's gateway (which redelivers what is not acked in
 * time, with the same eventId), some of them flagged to be delivered once more after their ack (a
 * duplicate delivery). Keeps what it pushed, so lost events (pushed, never handled) can be counted.
 */
import type { EventResult, Sandbox } from '@dingtalk-skills/sandbox';
import type { Random } from './random.js';

export interface EventTrafficOptions {
  sandbox: Sandbox;
  clientId: string;
  random: Random;
  /** Probability that an event is delivered once more after its ack. */
  duplicateRate: number;
  onDuplicate: () => void;
}

/** Counters of the EVENT traffic. */
export interface EventTrafficStats {
  pushed: number;
  /** EVENT frames the gateway sent: first deliveries, redeliveries and duplicate copies. */
  framesSent: number;
  redeliveries: number;
  duplicatesSent: number;
  /** Events whose delivery the gateway ended with a SUCCESS ack. */
  acked: number;
  /** Events the gateway gave up on (after its last redelivery). */
  failedAtGateway: number;
  /** Events still pending at the end (the gateway was still redelivering). */
  pendingAtEnd: number;
  /** Pushes that found no live connection and waited for the app to reconnect. */
  deferredPushes: number;
}

/** Pushes events and tracks their gateway-side results. */
export class EventTraffic {
  /** eventId -> push order, for every event pushed. */
  readonly pushed = new Map<string, number>();
  readonly #o: EventTrafficOptions;
  readonly #done: Promise<EventResult>[] = [];
  readonly #results: EventResult[] = [];
  #deferred = 0;
  #seq = 0;

  constructor(options: EventTrafficOptions) {
    this.#o = options;
  }

  /** Pushes one event; waits (bounded) for a live connection when there is none. */
  async push(): Promise<void> {
    const seq = ++this.#seq;
    const duplicate = this.#o.random.chance(this.#o.duplicateRate);
    const { gateway } = this.#o.sandbox;
    for (let attempt = 0; ; attempt++) {
      try {
        const pushed = gateway.pushEvent({
          clientId: this.#o.clientId,
          eventType: 'soak_event',
          data: { seq, note: 'chaos soak' },
          duplicate,
        });
        this.pushed.set(pushed.eventId, seq);
        if (duplicate) this.#o.onDuplicate();
        this.#done.push(
          pushed.done.then((r) => {
            this.#results.push(r);
            return r;
          }),
        );
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'noSubscriber' || attempt >= 100) throw err;
        this.#deferred++;
        await gateway
          .waitForConnection({ clientId: this.#o.clientId, type: 'EVENT', topic: '*' }, 1_000)
          .catch(() => undefined);
      }
    }
  }

  /** Resolves when every pushed event is settled at the gateway, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all(this.#done).then(() => true);
    const settled = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return settled;
  }

  stats(): EventTrafficStats {
    let framesSent = 0;
    let redeliveries = 0;
    let duplicatesSent = 0;
    let acked = 0;
    let failed = 0;
    for (const r of this.#results) {
      framesSent += r.attempts + (r.duplicateMessageId === undefined ? 0 : 1);
      redeliveries += r.attempts - 1;
      if (r.duplicateMessageId !== undefined) duplicatesSent++;
      if (r.status === 'acked') acked++;
      else if (r.status === 'failed') failed++;
    }
    return {
      pushed: this.pushed.size,
      framesSent,
      redeliveries,
      duplicatesSent,
      acked,
      failedAtGateway: failed,
      pendingAtEnd: this.pushed.size - this.#results.length,
      deferredPushes: this.#deferred,
    };
  }
}
