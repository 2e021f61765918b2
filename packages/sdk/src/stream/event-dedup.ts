import { randomUUID } from 'node:crypto';
import { toError } from '../errors/coded-error.js';
import { LogBudget } from '../logging/log-budget.js';
import type { Logger } from '../logging/logger.js';
import type { DedupClaim, DedupStore } from './dedup-store.js';
import { isThenable } from './job.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { StreamObserver } from './observer.js';

/** What to do with a claimed EVENT key once the answer is decided. */
export type DedupSettlement =
  /** The handler succeeded: mark the key done before the SUCCESS ack (a redelivery is a duplicate). */
  | 'done'
  /** LATER or a failure: give the key back, so a redelivery runs the handler again. */
  | 'release'
  /** Leave the lease as it is (a handler still running past its deadline keeps it). */
  | 'keep';

/**
 * What {@link EventDedup.decide} answers for one delivery of an EVENT.
 * - `run`: run the handler; `claim` is this delivery's lease, or undefined when the store failed (the
 *   event is handled without dedup: at least once beats losing it).
 * - `duplicate`: the event was handled; ack SUCCESS without running it.
 * - `in-progress`: another delivery holds the lease; ack LATER without running it.
 */
export type DedupDecision =
  | { readonly kind: 'run'; readonly claim: EventClaim | undefined }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in-progress' };

const DUPLICATE: DedupDecision = { kind: 'duplicate' };
const IN_PROGRESS: DedupDecision = { kind: 'in-progress' };
const UNCLAIMED: DedupDecision = { kind: 'run', claim: undefined };

/** Options of {@link EventDedup}. */
export interface EventDedupOptions {
  store: DedupStore;
  /** How long a handled event's key stays done. */
  ttlMs: number;
  /** The handler deadline: a lease is held at most this plus `leaseMarginMs`. */
  handlerTimeoutMs: number;
  leaseMarginMs: number;
  /** With a store that renews: one lease lasts this long and is renewed while the handler runs. */
  leaseMs?: number | undefined;
  /** How long the platform redelivers an unacked EVENT: a longer lease is warned about. */
  redeliveryHorizonMs?: number | undefined;
  logger: Logger;
  observer?: StreamObserver | undefined;
}

/**
 * EVENT dedup as a decision per delivery: {@link decide} claims the event id in the store (the lease
 * protocol of {@link DedupStore}) and answers run, duplicate or in-progress; the claim of a run is
 * settled once (done, release or keep). Store failures never reject: they are logged within a budget,
 * counted, and the event is handled without dedup.
 */
export class EventDedup {
  readonly #store: DedupStore;
  readonly #ttlMs: number;
  /** One lease (renewed while the handler runs when the store can). */
  readonly #leaseMs: number;
  /** The whole time a claim may be held while its handler runs (deadline plus margin). */
  readonly #horizonMs: number;
  readonly #keeper: LeaseKeeper | undefined;
  /** Names this process in lease owners (`<instanceId>:<messageId>`). */
  readonly #instanceId = randomUUID();
  readonly #log: Logger;
  readonly #observer: StreamObserver | undefined;
  /** One failure per event during an outage would flood the log: a burst, then one a second. */
  readonly #logBudget = new LogBudget(5, 1);

  constructor(opts: EventDedupOptions) {
    this.#store = opts.store;
    this.#ttlMs = opts.ttlMs;
    this.#log = opts.logger;
    this.#observer = opts.observer;
    this.#horizonMs = opts.handlerTimeoutMs + opts.leaseMarginMs;
    this.#leaseMs = this.#horizonMs;
    const store = opts.store;
    if (opts.leaseMs !== undefined && typeof store.renew === 'function') {
      this.#leaseMs = Math.min(opts.leaseMs, this.#horizonMs);
      this.#keeper = new LeaseKeeper({
        store: store as DedupStore & Required<Pick<DedupStore, 'renew'>>,
        leaseMs: this.#leaseMs,
        logger: opts.logger,
        onError: (key, err) => {
          this.#failed(
            { eventId: key, err: toError(err) },
            'dedup store failed to renew a lease; it runs out unless a later renewal gets through',
          );
          this.#observer?.dedupFailed?.('renew');
        },
      });
    }
    if (opts.redeliveryHorizonMs !== undefined && this.#leaseMs >= opts.redeliveryHorizonMs)
      opts.logger.warn(
        {
          leaseMs: this.#leaseMs,
          redeliveryHorizonMs: opts.redeliveryHorizonMs,
          renews: this.#keeper !== undefined,
        },
        this.#keeper === undefined
          ? 'EVENT dedup lease (handler timeout + margin) outlasts the platform redelivery schedule: events held by an instance that dies are never handled; lower the handler timeout or use a store that renews leases'
          : 'EVENT dedup lease outlasts the platform redelivery schedule: events held by an instance that dies are never handled; lower dedup.leaseMs',
      );
  }

  /**
   * Claims `eventId` for the delivery `messageId`. Answers synchronously when the store does; never
   * rejects. A claimed lease is kept alive (stores that renew) until it is settled.
   */
  decide(eventId: string, messageId: string): DedupDecision | Promise<DedupDecision> {
    const owner = `${this.#instanceId}:${messageId}`;
    let found: DedupClaim | Promise<DedupClaim>;
    try {
      found = this.#store.begin(eventId, owner, this.#leaseMs);
    } catch (err) {
      return this.#beginFailed(eventId, messageId, err);
    }
    if (typeof found === 'string') return this.#decision(eventId, owner, found);
    return found.then(
      (claim) => this.#decision(eventId, owner, claim),
      (err: unknown) => this.#beginFailed(eventId, messageId, err),
    );
  }

  /** Stops renewing leases and logs the failures the budget held back. */
  dispose(): void {
    this.#keeper?.dispose();
    const unlogged = this.#logBudget.flush();
    if (unlogged > 0)
      this.#log.error(
        { suppressed: unlogged },
        'dedup store failures since the last such line were not logged',
      );
  }

  #decision(eventId: string, owner: string, found: DedupClaim): DedupDecision {
    if (found === 'done') return DUPLICATE;
    if (found === 'in-progress') return IN_PROGRESS;
    this.#keeper?.hold(eventId, owner, Date.now() + this.#horizonMs);
    return { kind: 'run', claim: new EventClaim(this, eventId, owner) };
  }

  #beginFailed(eventId: string, messageId: string, err: unknown): DedupDecision {
    this.#failed({ messageId, eventId, err: toError(err) }, 'dedup store failed; handling without dedup');
    this.#observer?.dedupFailed?.('claim');
    return UNCLAIMED;
  }

  /** Settles a claim (see {@link EventClaim.settle}). */
  settle(claim: EventClaim, how: 'done' | 'release'): Promise<void> | undefined {
    this.#keeper?.drop(claim.owner);
    return how === 'done' ? this.#complete(claim) : this.#release(claim);
  }

  #complete(claim: EventClaim): Promise<void> | undefined {
    let result: boolean | Promise<boolean>;
    try {
      result = this.#store.complete(claim.eventId, claim.owner, this.#ttlMs);
    } catch (err) {
      this.#completeFailed(claim.eventId, err);
      return undefined;
    }
    if (typeof result === 'boolean') {
      if (!result) this.#leaseLost(claim.eventId);
      return undefined;
    }
    return result.then(
      (marked) => {
        if (marked !== true) this.#leaseLost(claim.eventId);
      },
      (err: unknown) => this.#completeFailed(claim.eventId, err),
    );
  }

  #release(claim: EventClaim): Promise<void> | undefined {
    let result: unknown;
    try {
      result = this.#store.release(claim.eventId, claim.owner);
    } catch (err) {
      this.#releaseFailed(claim.eventId, err);
      return undefined;
    }
    if (!isThenable(result)) return undefined;
    return Promise.resolve(result).then(
      () => undefined,
      (err: unknown) => this.#releaseFailed(claim.eventId, err),
    );
  }

  #leaseLost(eventId: string): void {
    this.#log.warn(
      { eventId, leaseMs: this.#leaseMs },
      'the dedup lease ran out before the handler finished and another delivery took the event: it may have been handled twice',
    );
  }

  #completeFailed(eventId: string, err: unknown): void {
    this.#failed(
      { eventId, err: toError(err) },
      'dedup store failed to mark a handled event done; a redelivery after the lease may run it again',
    );
    this.#observer?.dedupFailed?.('complete');
  }

  #releaseFailed(eventId: string, err: unknown): void {
    this.#failed(
      { eventId, err: toError(err) },
      'dedup store failed to release a key; a redelivery may wait for the lease or be skipped',
    );
    this.#observer?.dedupFailed?.('release');
  }

  /** Logs a store failure within the budget; the next line let through counts the rest. */
  #failed(fields: Record<string, unknown>, message: string): void {
    const suppressed = this.#logBudget.take();
    if (suppressed === undefined) return;
    this.#log.error(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}

/**
 * One delivery's lease of an event id. Settled at most once: `done` marks the event handled, `release`
 * gives the key back, `keep` leaves the lease to run out (or to be settled later by a late handler).
 */
export class EventClaim {
  #settled = false;

  constructor(
    private readonly dedup: EventDedup,
    readonly eventId: string,
    readonly owner: string,
  ) {}

  /**
   * Settles the key; a promise only when the store answers asynchronously. Never rejects. `keep` and
   * a second settlement do nothing.
   */
  settle(how: DedupSettlement): Promise<void> | undefined {
    if (how === 'keep' || this.#settled) return undefined;
    this.#settled = true;
    return this.dedup.settle(this, how);
  }
}
