import { type BackoffPolicy, backoffDelay } from './backoff.js';

/** What the gate starts and asks about: a pool slot (see `slot.ts`). */
export interface GatedSlot {
  /** Starts a connect attempt now (no-op when one runs or the slot is halted). */
  wake(): void;
  /** Starts a connect attempt after `delayMs` (staggered start). */
  wakeAfter(delayMs: number): void;
}

/**
 * Paces the connect attempts of a whole pool, so N slots do not hammer a failing gateway N times as
 * hard as one:
 * - slot starts are spread over a window (`staggerWindowMs`, random per slot), instead of N
 *   `connections/open` calls at the same instant;
 * - while no slot is connected and a connect attempt has failed, the pool shares one backoff: one slot
 *   probes at a time, after the shared delay; the others wait (parked) and are started again, staggered,
 *   once a probe gets through. While some slot is connected, each slot backs off on its own.
 */
export class PoolGate {
  readonly #policy: BackoffPolicy;
  readonly #staggerWindowMs: number;
  readonly #anyConnected: () => boolean;
  readonly #random: () => number;
  /** A connect failed while no slot was connected; cleared by the next success. */
  #failing = false;
  /** Failures of the shared streak (drives the shared backoff). */
  #attempt = 0;
  /** The slot allowed to try while failing (undefined between probes). */
  #probe: GatedSlot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #halted = false;
  readonly #parked = new Set<GatedSlot>();

  constructor(options: {
    policy: BackoffPolicy;
    staggerWindowMs: number;
    anyConnected: () => boolean;
    random?: () => number;
  }) {
    this.#policy = options.policy;
    this.#staggerWindowMs = options.staggerWindowMs;
    this.#anyConnected = options.anyConnected;
    this.#random = options.random ?? Math.random;
  }

  /** Starts every slot: the first at once, the others at random points of the stagger window. */
  start(slots: readonly GatedSlot[]): void {
    slots.forEach((slot, i) => {
      if (i === 0) slot.wake();
      else slot.wakeAfter(this.#stagger());
    });
  }

  /**
   * Asks whether `slot` may start a connect attempt now. While the pool is failing only the probe may;
   * any other slot is parked (started again once a probe succeeds) and false is returned.
   */
  mayConnect(slot: GatedSlot): boolean {
    if (this.#halted) return false;
    if (!this.#failing || this.#probe === slot) return true;
    if (this.#probe === undefined && this.#timer === undefined) {
      this.#probe = slot;
      return true;
    }
    this.#parked.add(slot);
    return false;
  }

  /** A slot connected: the pool is healthy again; parked slots start, staggered. */
  connected(slot: GatedSlot): void {
    this.#parked.delete(slot);
    if (!this.#failing) return;
    this.#failing = false;
    this.#attempt = 0;
    this.#probe = undefined;
    this.#clearTimer();
    const parked = [...this.#parked];
    this.#parked.clear();
    for (const s of parked) s.wakeAfter(this.#stagger());
  }

  /**
   * A connect attempt of `slot` failed (or its connection died young; `slotAttempt` is its own failure
   * streak). When another slot is connected, returns undefined: the slot
   * backs off on its own. Otherwise the pool shares one backoff: the slot is parked and the delay
   * until the next probe is returned.
   */
  failed(slot: GatedSlot, slotAttempt: number): number | undefined {
    if (this.#halted) return undefined;
    if (this.#anyConnected()) {
      if (this.#probe === slot) this.#probe = undefined;
      return undefined;
    }
    this.#failing = true;
    this.#parked.add(slot);
    if (this.#probe === slot) this.#probe = undefined;
    if (this.#timer === undefined && this.#probe === undefined) {
      // The slot's own streak counts too: a gateway that accepts and at once drops keeps growing it.
      const delayMs = backoffDelay(this.#policy, Math.max(this.#attempt++, slotAttempt), this.#random);
      this.#timer = setTimeout(this.#nextProbe, delayMs);
      this.#dueAt = Date.now() + delayMs;
      return delayMs;
    }
    return Math.max(0, this.#dueAt - Date.now());
  }

  /** Stops everything: no probe, no wake-ups. */
  halt(): void {
    this.#halted = true;
    this.#clearTimer();
    this.#parked.clear();
    this.#probe = undefined;
  }

  #dueAt = 0;

  readonly #nextProbe = (): void => {
    this.#timer = undefined;
    const next = this.#parked.values().next();
    if (next.done) return;
    this.#parked.delete(next.value);
    this.#probe = next.value;
    next.value.wake();
  };

  #stagger(): number {
    return Math.round(this.#random() * this.#staggerWindowMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
