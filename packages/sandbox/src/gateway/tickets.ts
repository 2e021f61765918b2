import { randomUUID } from 'node:crypto';
import type { Subscription } from '@dingtalk-skills/sdk/protocol';
import type { SandboxClock } from '../clock.js';
import type { AppRef } from '../context.js';

/** What a ticket grants: one WebSocket connection for this app with these subscriptions. */
export interface TicketGrant {
  app: AppRef;
  subscriptions: Subscription[];
  ua: string | undefined;
  localIp: string | undefined;
}

interface TicketEntry {
  grant: TicketGrant;
  expiresAt: number;
  used: boolean;
}

export type TicketRedemption =
  | { ok: true; grant: TicketGrant }
  | { ok: false; reason: 'missing' | 'unknown' | 'used' | 'expired' };

/**
 * Tickets from `connections/open`: a uuid, valid `ttlMs` by the sandbox clock, opens exactly one
 * connection. Used and expired tickets are remembered until their expiry so a reuse is reported as
 * such, then swept.
 */
export class TicketStore {
  readonly #entries = new Map<string, TicketEntry>();
  readonly #clock: SandboxClock;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(clock: SandboxClock, ttlMs: number, maxRemembered = 10_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#max = maxRemembered;
  }

  issue(grant: TicketGrant): string {
    this.#sweep();
    const ticket = randomUUID();
    this.#entries.set(ticket, { grant, expiresAt: this.#clock.now() + this.#ttlMs, used: false });
    return ticket;
  }

  /** Consumes a ticket: succeeds once, while it is unexpired. */
  redeem(ticket: string | null | undefined): TicketRedemption {
    if (ticket === null || ticket === undefined || ticket === '') return { ok: false, reason: 'missing' };
    const entry = this.#entries.get(ticket);
    if (entry === undefined) return { ok: false, reason: 'unknown' };
    if (entry.used) return { ok: false, reason: 'used' };
    if (this.#clock.now() > entry.expiresAt) return { ok: false, reason: 'expired' };
    entry.used = true;
    return { ok: true, grant: entry.grant };
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [ticket, entry] of this.#entries) if (now > entry.expiresAt) this.#entries.delete(ticket);
    // Map iteration is insertion order: drop the oldest when over the cap.
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
