import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import { LogBudget } from '../logging/log-budget.js';
import type { Logger } from '../logging/logger.js';
import {
  AckCode,
  callbackAck,
  type EventStatus,
  errorAck,
  eventAck,
  pingAck,
  serializeAck,
  type UpstreamAck,
} from '../protocol/ack.js';
import { decodeEvent } from '../protocol/event.js';
import { type DownstreamFrame, type ParseFrameOptions, parseDownstreamFrame } from '../protocol/frame.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import { readDisconnectReason } from '../protocol/system.js';
import { Topic } from '../protocol/topics.js';
import type { RawData, StreamConnection } from './connection.js';
import { type DedupClaim, type DedupStore, hasLeases } from './dedup-store.js';
import type { CallbackMessage, HandlerRegistry } from './handlers.js';
import { ANSWERING, DONE, isThenable, Job, JobContext, QUEUED, RUNNING } from './job.js';
import { JobList } from './job-list.js';
import { LeaseKeeper } from './lease-keeper.js';
import { type StreamMessageOutcome, type StreamObserver, UNREGISTERED_TOPIC } from './observer.js';

/** The reason of the answers `stop()` gives when its drain deadline passes. */
const STOPPING = 'client stopping';

/** What happens to an EVENT's dedup key when its answer is decided. */
const KEEP = 0;
/** Give the key back, so a redelivery runs the handler again (LATER, failure). */
const RELEASE = 1;
/** Mark the key done before the ack goes out (lease protocol, handler succeeded). */
const COMPLETE = 2;
type KeySettlement = typeof KEEP | typeof RELEASE | typeof COMPLETE;

/** What the dispatcher asks of the connection layer. */
export interface DispatcherHooks {
  /** Stop reading from every socket (maxInFlight reached). */
  pauseReading(): void;
  /** Read again. */
  resumeReading(): void;
  /** The gateway sent SYSTEM `disconnect` on `conn`. */
  onDisconnect(conn: StreamConnection, reason: string): void;
  /** A retiring connection has answered everything it received. */
  onDrained(conn: StreamConnection): void;
}

export interface DispatcherOptions {
  registry: HandlerRegistry;
  dedupStore: DedupStore;
  dedupTtlMs: number;
  /** Lease protocol: a claim is held for the handler deadline plus this margin. */
  leaseMarginMs: number;
  /**
   * Lease protocol with a store that renews: one lease lasts this long and is renewed while the handler
   * runs (never past the handler deadline plus `leaseMarginMs`). Default: no renewal.
   */
  leaseMs?: number;
  /** How long the platform redelivers an unacked EVENT: a longer lease is warned about at start. */
  redeliveryHorizonMs?: number;
  handlerTimeoutMs: number;
  maxInFlight: number;
  maxFrameBytes: number;
  /** Rate limit of the malformed-frame warnings. */
  malformedFrameLog: { burst: number; perSecond: number };
  logger: Logger;
  hooks: DispatcherHooks;
  /** Told the outcome of every message (metrics). */
  observer?: StreamObserver | undefined;
}

/** Counters for `status()`. */
export interface DispatcherStatus {
  /** Handlers running (or awaiting their dedup claim). */
  inFlight: number;
  /** Messages read but waiting for a free slot. */
  queued: number;
  /** Handlers that missed their deadline (already answered) and have not settled yet. */
  abandoned: number;
}

const TOPIC_IN_ERROR_MAX = 200;

/**
 * Frame codec -> dispatch -> handler -> ack. Parses each inbound message with the protocol codec,
 * answers SYSTEM frames, dedupes EVENTs, runs handlers under `maxInFlight`, enforces deadlines with one
 * coarse sweep timer, and sends each ack on the socket the frame came in on. Never throws to its caller.
 */
export class Dispatcher {
  private readonly registry: HandlerRegistry;
  private readonly store: DedupStore;
  /** The store implements the lease protocol (begin / complete). */
  private readonly leases: boolean;
  private readonly leaseMs: number;
  /** The whole time a claim may be held while its handler runs (deadline plus margin). */
  private readonly leaseHorizonMs: number;
  /** Renews leases while their handlers run (stores with `renew`). */
  private readonly leaseKeeper: LeaseKeeper | undefined;
  /** Names this client in lease owners (`<instanceId>:<messageId>`). */
  private readonly instanceId = randomUUID();
  private readonly observer: StreamObserver | undefined;
  private readonly dedupTtlMs: number;
  private readonly eventTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly parseOptions: ParseFrameOptions;
  private readonly log: Logger;
  /** Malformed-frame warnings: a burst, then a few a second; the next line counts the rest. */
  private readonly malformedLogBudget: LogBudget;
  /** Dedup store failures: one per event during an outage would flood the log; a burst, then one a second. */
  private readonly dedupLogBudget = new LogBudget(5, 1);
  /** Same budget for CALLBACKs of a topic without handler and EVENTs without an event handler. */
  private readonly unhandledLogBudget: LogBudget;
  private readonly hooks: DispatcherHooks;
  private readonly sweepMs: number;
  /** The longest CALLBACK deadline: how long a drain waits for CALLBACKs past its own timeout. */
  private readonly callbackTimeoutMs: number;

  /** Jobs that still await a decision (queued or running): what the deadline sweep looks at. */
  private readonly jobs = new JobList();
  private readonly queue: Job[] = [];
  private running = 0;
  /** Admitted and not yet acked (or dropped). */
  private outstanding = 0;
  private abandoned = 0;
  private paused = false;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: DispatcherOptions) {
    this.registry = opts.registry;
    this.store = opts.dedupStore;
    this.leases = hasLeases(opts.dedupStore);
    this.leaseHorizonMs = opts.handlerTimeoutMs + opts.leaseMarginMs;
    this.leaseMs = this.leaseHorizonMs;
    const store = opts.dedupStore;
    if (this.leases && opts.leaseMs !== undefined && typeof store.renew === 'function') {
      this.leaseMs = Math.min(opts.leaseMs, this.leaseHorizonMs);
      this.leaseKeeper = new LeaseKeeper({
        store: store as DedupStore & Required<Pick<DedupStore, 'renew'>>,
        leaseMs: this.leaseMs,
        logger: opts.logger,
        onError: (key, err) => {
          this.dedupError(
            { eventId: key, err: toError(err) },
            'dedup store failed to renew a lease; it runs out unless a later renewal gets through',
          );
          this.observer?.dedupFailed?.('renew');
        },
      });
    }
    if (this.leases && opts.redeliveryHorizonMs !== undefined && this.leaseMs >= opts.redeliveryHorizonMs)
      opts.logger.warn(
        {
          leaseMs: this.leaseMs,
          redeliveryHorizonMs: opts.redeliveryHorizonMs,
          renews: this.leaseKeeper !== undefined,
        },
        this.leaseKeeper === undefined
          ? 'EVENT dedup lease (handler timeout + margin) outlasts the platform redelivery schedule: events held by an instance that dies are never handled; lower the handler timeout or use a store that renews leases'
          : 'EVENT dedup lease outlasts the platform redelivery schedule: events held by an instance that dies are never handled; lower dedup.leaseMs',
      );
    this.observer = opts.observer;
    this.dedupTtlMs = opts.dedupTtlMs;
    this.eventTimeoutMs = opts.handlerTimeoutMs;
    this.maxInFlight = opts.maxInFlight;
    this.parseOptions = { maxBytes: opts.maxFrameBytes };
    this.log = opts.logger;
    this.malformedLogBudget = new LogBudget(opts.malformedFrameLog.burst, opts.malformedFrameLog.perSecond);
    this.unhandledLogBudget = new LogBudget(opts.malformedFrameLog.burst, opts.malformedFrameLog.perSecond);
    this.hooks = opts.hooks;
    let shortest = opts.handlerTimeoutMs;
    let longest = 0;
    for (const reg of opts.registry.callbacks.values()) {
      shortest = Math.min(shortest, reg.timeoutMs);
      longest = Math.max(longest, reg.timeoutMs);
    }
    this.callbackTimeoutMs = longest;
    // Deadlines are met within a tenth of the shortest timeout (5 ms .. 1 s).
    this.sweepMs = Math.min(1000, Math.max(5, Math.round(shortest / 10)));
  }

  status(): DispatcherStatus {
    return { inFlight: this.running, queued: this.queue.length, abandoned: this.abandoned };
  }

  /** Entry point for every inbound WebSocket message. */
  readonly onFrame = (conn: StreamConnection, data: RawData, now: number): void => {
    let frame: DownstreamFrame;
    try {
      frame = parseDownstreamFrame(toText(data), this.parseOptions);
    } catch (err) {
      this.rejectFrame(conn, err);
      return;
    }
    if (frame.type === 'SYSTEM') {
      this.onSystem(conn, frame);
      return;
    }
    const messageId = frame.headers.messageId;
    if (frame.type === 'EVENT') {
      if (this.closed) {
        // Stopping: no ack, so the platform delivers the EVENT again (to another connection or process).
        // CALLBACKs are still answered: the platform does not redeliver a skill call left unanswered.
        this.log.debug({ messageId, type: frame.type }, 'client stopping; EVENT left unacked');
        return;
      }
      if (this.registry.eventHandler === undefined) {
        const suppressed = this.unhandledLogBudget.take();
        if (suppressed !== undefined)
          this.log.warn(
            { messageId, connection: conn.id, ...(suppressed > 0 ? { suppressed } : {}) },
            'EVENT received but no event handler is registered',
          );
        this.sendNow(conn, errorAck(messageId, AckCode.NotFound, 'no EVENT handler registered'));
        this.observer?.messageAnswered('EVENT', '*', 'not_found', undefined);
        return;
      }
      let event: ReturnType<typeof decodeEvent>;
      try {
        event = decodeEvent(frame);
      } catch (err) {
        this.rejectFrame(conn, err);
        return;
      }
      this.admit(new Job(conn, messageId, now + this.eventTimeoutMs, event, undefined, undefined));
      return;
    }
    const topic = frame.headers.topic;
    const reg = this.registry.callbacks.get(topic);
    if (reg === undefined) {
      const shown = topic.length > TOPIC_IN_ERROR_MAX ? `${topic.slice(0, TOPIC_IN_ERROR_MAX)}...` : topic;
      const suppressed = this.unhandledLogBudget.take();
      if (suppressed !== undefined)
        this.log.warn(
          { messageId, topic: shown, connection: conn.id, ...(suppressed > 0 ? { suppressed } : {}) },
          'CALLBACK for a topic without handler; answered 404',
        );
      this.sendNow(conn, errorAck(messageId, AckCode.NotFound, `topic not handled: ${shown}`));
      this.observer?.messageAnswered('CALLBACK', UNREGISTERED_TOPIC, 'not_found', undefined);
      return;
    }
    const message: CallbackMessage = { topic, messageId, headers: frame.headers, data: frame.data };
    this.admit(new Job(conn, messageId, now + reg.timeoutMs, undefined, message, reg));
  };

  /**
   * Stops taking EVENTs: later EVENT frames are left unacked and queued ones are dropped unacked (the
   * platform redelivers them). CALLBACKs keep being run and answered while the client drains (each
   * within its own deadline): the platform does not redeliver an unanswered skill call, so leaving one
   * unanswered would lose it. Reading resumes unless handlers are at maxInFlight.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let dropped = 0;
    let kept = 0;
    for (const job of this.queue) {
      if (job.state !== QUEUED) continue;
      if (job.event === undefined) {
        this.queue[kept++] = job;
        continue;
      }
      this.jobs.delete(job);
      this.retire(job);
      dropped++;
    }
    this.queue.length = kept;
    if (dropped > 0) this.log.info({ dropped }, 'stopping: queued EVENTs left unacked for redelivery');
    this.pump();
    this.notifyIfIdle();
  }

  /**
   * Resolves when every admitted message is answered. After `timeoutMs`, EVENTs still running are
   * answered LATER (redelivered); CALLBACKs (including those arriving meanwhile) get up to the longest
   * callback timeout more, each answered by its handler or at its own deadline, and whatever is left
   * then is answered as timed out (CALLBACK 500 or its onTimeout response).
   */
  drain(timeoutMs: number): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.drainTimer !== undefined) return;
      this.drainTimer = setTimeout(() => {
        for (const job of this.jobs) if (job.event !== undefined) this.expire(job, STOPPING);
        if (this.outstanding === 0) return; // answered: notifyIfIdle resolved the waiters
        this.drainTimer = setTimeout(() => {
          this.drainTimer = undefined;
          for (const job of this.jobs) this.expire(job, STOPPING);
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }, this.callbackTimeoutMs);
      }, timeoutMs);
    });
  }

  /** Clears every timer the dispatcher holds. */
  dispose(): void {
    const unloggedDedup = this.dedupLogBudget.flush();
    if (unloggedDedup > 0)
      this.log.error(
        { suppressed: unloggedDedup },
        'dedup store failures since the last such line were not logged',
      );
    const unlogged = this.malformedLogBudget.flush();
    if (unlogged > 0)
      this.log.warn({ suppressed: unlogged }, 'malformed frames since the last such warning were not logged');
    this.leaseKeeper?.dispose();
    const unhandled = this.unhandledLogBudget.flush();
    if (unhandled > 0)
      this.log.warn(
        { suppressed: unhandled },
        'messages without a handler since the last such warning were not logged',
      );
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.sweepTimer = this.drainTimer = undefined;
  }

  // ---- frames --------------------------------------------------------------------------------------

  private onSystem(conn: StreamConnection, frame: DownstreamFrame): void {
    const { topic, messageId } = frame.headers;
    if (topic === Topic.Ping) {
      this.sendNow(conn, pingAck(messageId, frame.data));
    } else if (topic === Topic.Disconnect) {
      const reason = readDisconnectReason(frame.data);
      this.log.info({ connection: conn.id, slot: conn.slot, reason }, 'gateway sent disconnect');
      this.hooks.onDisconnect(conn, reason);
    } else {
      this.log.debug({ topic, messageId, connection: conn.id }, 'unknown SYSTEM topic ignored');
    }
  }

  private rejectFrame(conn: StreamConnection, err: unknown): void {
    if (err instanceof ProtocolError) {
      // Every malformed frame is answered; a flood of them is logged at a bounded rate.
      const suppressed = this.malformedLogBudget.take();
      if (suppressed !== undefined)
        this.log.warn(
          {
            connection: conn.id,
            slot: conn.slot,
            messageId: err.messageId,
            field: err.field,
            reason: err.message,
            // How many malformed frames since the previous such line were left out of the log.
            ...(suppressed > 0 ? { suppressed } : {}),
          },
          err.messageId === undefined
            ? 'malformed frame dropped (no message id to answer)'
            : 'malformed frame answered 400',
        );
      if (err.messageId !== undefined)
        this.sendNow(conn, errorAck(err.messageId, AckCode.BadRequest, err.message));
      return;
    }
    this.log.error({ connection: conn.id, err: toError(err) }, 'unexpected error while reading a frame');
  }

  // ---- admission and flow control ------------------------------------------------------------------

  private admit(job: Job): void {
    if (this.observer !== undefined) job.receivedAt = performance.now();
    this.outstanding++;
    job.conn.pending++;
    this.jobs.add(job);
    if (this.sweepTimer === undefined) this.sweepTimer = setInterval(this.sweep, this.sweepMs);
    if (this.running >= this.maxInFlight) {
      this.queue.push(job);
      return;
    }
    this.run(job);
  }

  private run(job: Job): void {
    job.state = RUNNING;
    this.running++;
    if (this.running >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.hooks.pauseReading();
    }
    if (job.event !== undefined) this.runEvent(job);
    else this.runCallback(job);
  }

  /** A handler slot was freed: start queued jobs, and read again once there is room. */
  private pump(): void {
    while (this.running < this.maxInFlight && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.state === QUEUED) this.run(job);
    }
    if (this.paused && this.running < this.maxInFlight && this.queue.length === 0) {
      this.paused = false;
      this.hooks.resumeReading();
    }
  }

  private readonly sweep = (): void => {
    if (this.jobs.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      return;
    }
    const now = Date.now();
    for (const job of this.jobs) if (job.deadline <= now) this.expire(job, 'handler timeout');
  };

  // ---- EVENT ---------------------------------------------------------------------------------------

  private runEvent(job: Job): void {
    const key = job.event!.id;
    if (this.leases) {
      job.owner = `${this.instanceId}:${job.messageId}`;
      let claim: DedupClaim | Promise<DedupClaim>;
      try {
        claim = this.store.begin!(key, job.owner, this.leaseMs);
      } catch (err) {
        this.claimFailed(job, err);
        return;
      }
      if (typeof claim === 'string') this.afterBegin(job, claim);
      else
        claim.then(
          (found) => this.afterBegin(job, found),
          (err: unknown) => this.claimFailed(job, err),
        );
      return;
    }
    let claim: boolean | Promise<boolean>;
    try {
      claim = this.store.claim(key, this.dedupTtlMs);
    } catch (err) {
      this.claimFailed(job, err);
      return;
    }
    if (typeof claim === 'boolean') this.afterClaim(job, claim);
    else
      claim.then(
        (first) => this.afterClaim(job, first === true),
        (err: unknown) => this.claimFailed(job, err),
      );
  }

  /** The store is down: run the handler anyway (at-least-once beats losing the event). */
  private claimFailed(job: Job, err: unknown): void {
    this.dedupError(
      { messageId: job.messageId, eventId: job.event!.id, err: toError(err) },
      'dedup store failed; handling without dedup',
    );
    this.observer?.dedupFailed?.('claim');
    if (job.state !== RUNNING) return;
    this.invokeEvent(job, false);
  }

  /** Original protocol: claimed = handled or in flight. */
  private afterClaim(job: Job, first: boolean): void {
    if (job.state !== RUNNING) {
      // Timed out (or stopped) while the claim was pending: nothing ran, so give the key back.
      if (first) void this.release(job.event!.id, undefined);
      return;
    }
    if (!first) {
      this.duplicate(job);
      return;
    }
    this.invokeEvent(job, true);
  }

  /** Lease protocol: run when claimed, LATER while another delivery holds the lease, SUCCESS when done. */
  private afterBegin(job: Job, found: DedupClaim): void {
    if (job.state !== RUNNING) {
      if (found === 'claimed') void this.release(job.event!.id, job.owner);
      return;
    }
    if (found === 'done') {
      this.duplicate(job);
      return;
    }
    if (found === 'in-progress') {
      this.log.debug(
        { messageId: job.messageId, eventId: job.event!.id },
        'event is in progress elsewhere (its lease is held); acked LATER without running the handler',
      );
      this.answer(job, eventAck(job.messageId, 'LATER', 'in progress'), KEEP, 'in_progress');
      return;
    }
    this.leaseKeeper?.hold(job.event!.id, job.owner!, Date.now() + this.leaseHorizonMs);
    this.invokeEvent(job, true);
  }

  private duplicate(job: Job): void {
    this.log.debug(
      { messageId: job.messageId, eventId: job.event!.id },
      'duplicate event acked without running the handler',
    );
    this.answer(job, eventAck(job.messageId, 'SUCCESS', 'duplicate'), KEEP, 'duplicate');
  }

  private invokeEvent(job: Job, claimed: boolean): void {
    job.claimed = claimed;
    job.invoked = true;
    let result: unknown;
    try {
      result = this.registry.eventHandler!(job.event!, new JobContext(job));
    } catch (err) {
      this.eventFailed(job, err);
      return;
    }
    if (isThenable(result)) void this.awaitEvent(job, result);
    else this.eventSettled(job, result);
  }

  private async awaitEvent(job: Job, pending: PromiseLike<unknown>): Promise<void> {
    let result: unknown;
    try {
      result = await pending;
    } catch (err) {
      this.eventFailed(job, err);
      return;
    }
    this.eventSettled(job, result);
  }

  private eventSettled(job: Job, result: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, result === 'LATER' ? 'LATER' : 'SUCCESS');
      return;
    }
    const status: EventStatus = result === 'LATER' ? 'LATER' : 'SUCCESS';
    if (result !== undefined && result !== 'SUCCESS' && result !== 'LATER')
      this.log.warn(
        { messageId: job.messageId },
        "event handler returned something other than 'SUCCESS', 'LATER' or nothing; acked SUCCESS",
      );
    if (status === 'LATER') this.answer(job, eventAck(job.messageId, 'LATER'), RELEASE, 'later');
    else this.answer(job, eventAck(job.messageId, 'SUCCESS'), COMPLETE, 'success');
  }

  private eventFailed(job: Job, err: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, 'threw', err);
      return;
    }
    const ev = job.event!;
    this.log.error(
      { messageId: job.messageId, eventId: ev.id, eventType: ev.eventType, err: toError(err) },
      'event handler failed; acked LATER',
    );
    this.answer(job, eventAck(job.messageId, 'LATER', 'handler failed'), RELEASE, 'failed');
  }

  // ---- CALLBACK ------------------------------------------------------------------------------------

  private runCallback(job: Job): void {
    job.invoked = true;
    let result: unknown;
    try {
      result = job.registration!.handler(job.message!, new JobContext(job));
    } catch (err) {
      this.callbackFailed(job, err);
      return;
    }
    if (isThenable(result)) void this.awaitCallback(job, result);
    else this.callbackSettled(job, result);
  }

  private async awaitCallback(job: Job, pending: PromiseLike<unknown>): Promise<void> {
    let result: unknown;
    try {
      result = await pending;
    } catch (err) {
      this.callbackFailed(job, err);
      return;
    }
    this.callbackSettled(job, result);
  }

  private callbackSettled(job: Job, result: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, 'returned');
      return;
    }
    this.answer(job, this.callbackAnswer(job, result), KEEP, 'answered');
  }

  /** `{"response": result}`, or 500 when the result cannot be serialized to JSON (BigInt, cycles). */
  private callbackAnswer(job: Job, response: unknown): UpstreamAck {
    try {
      return callbackAck(job.messageId, response);
    } catch (err) {
      this.log.error(
        { messageId: job.messageId, topic: job.message!.topic, err: toError(err) },
        'callback result is not JSON-serializable; answered 500',
      );
      return errorAck(job.messageId, AckCode.InternalError, 'internal error');
    }
  }

  private callbackFailed(job: Job, err: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, 'threw', err);
      return;
    }
    this.log.error(
      { messageId: job.messageId, topic: job.message!.topic, err: toError(err) },
      'callback handler failed; answered 500',
    );
    this.answer(job, errorAck(job.messageId, AckCode.InternalError, 'internal error'), KEEP, 'failed');
  }

  // ---- deadlines -----------------------------------------------------------------------------------

  /** Answers a job whose deadline passed (or that `stop()` gave up on); its handler is left running. */
  private expire(job: Job, reason: string): void {
    if (job.state !== QUEUED && job.state !== RUNNING) return;
    if (job.invoked) {
      this.abandoned++;
      job.abandon(
        new DingTalkSkillsError(
          reason === STOPPING ? ErrorCode.Stopped : ErrorCode.HandlerTimeout,
          `message ${job.messageId} was answered without its handler: ${reason}`,
        ),
      );
    }
    if (job.event !== undefined) {
      this.log.warn(
        { messageId: job.messageId, eventId: job.event.id, eventType: job.event.eventType, reason },
        'event not handled in time; acked LATER',
      );
      // Lease protocol: a handler left running keeps its lease (no second copy runs meanwhile); when it
      // settles, its key is completed or released (settledLate). The original protocol gives it back now.
      const settle = this.leases && job.invoked ? KEEP : RELEASE;
      this.answer(job, eventAck(job.messageId, 'LATER', reason), settle, 'timeout');
      return;
    }
    const reg = job.registration!;
    this.log.warn(
      { messageId: job.messageId, topic: reg.topic, timeoutMs: reg.timeoutMs, reason },
      'callback not handled in time',
    );
    if (reg.onTimeout === undefined) {
      this.answer(job, errorAck(job.messageId, AckCode.InternalError, reason), KEEP, 'timeout');
      return;
    }
    let response: unknown;
    try {
      response = reg.onTimeout(job.message!);
    } catch (err) {
      this.log.error(
        { messageId: job.messageId, topic: reg.topic, err: toError(err) },
        'onTimeout threw; answered 500',
      );
      this.answer(job, errorAck(job.messageId, AckCode.InternalError, reason), KEEP, 'timeout');
      return;
    }
    this.answer(job, this.callbackAnswer(job, response), KEEP, 'timeout');
  }

  private settledLate(job: Job, outcome: string, err?: unknown): void {
    this.abandoned--;
    this.log.warn(
      { messageId: job.messageId, outcome, err: err === undefined ? undefined : toError(err) },
      'handler settled after its deadline; its result was dropped',
    );
    if (job.event === undefined || !job.claimed) return;
    // Lease protocol: the event was acked LATER at the deadline and the lease kept; now settle the key so a
    // redelivery is acked SUCCESS (done) or runs again (released) instead of waiting for the lease.
    job.claimed = false;
    this.leaseKeeper?.drop(job.owner);
    if (outcome === 'SUCCESS') void this.complete(job);
    else void this.release(job.event.id, job.owner);
  }

  // ---- answers -------------------------------------------------------------------------------------

  /**
   * Decides a job: an EVENT's dedup key is settled first (released after a failure so a redelivery runs
   * again; marked done after a success under the lease protocol, so a redelivery after the ack finds it
   * done), then the ack goes out on the job's socket.
   */
  private answer(job: Job, ack: UpstreamAck, settle: KeySettlement, outcome: StreamMessageOutcome): void {
    const wasRunning = job.state === RUNNING;
    job.state = ANSWERING;
    this.jobs.delete(job);
    if (this.observer !== undefined) this.observe(job, outcome);
    let pending: Promise<void> | undefined;
    if (job.claimed && settle !== KEEP) {
      job.claimed = false;
      this.leaseKeeper?.drop(job.owner);
      if (settle === RELEASE) pending = this.release(job.event!.id, job.owner);
      else if (this.leases) pending = this.complete(job);
    }
    if (pending !== undefined) {
      pending.then(() => this.deliver(job, ack, wasRunning));
      return;
    }
    this.deliver(job, ack, wasRunning);
  }

  private observe(job: Job, outcome: StreamMessageOutcome): void {
    const seconds = job.invoked ? (performance.now() - job.receivedAt) / 1000 : undefined;
    if (job.event !== undefined) this.observer!.messageAnswered('EVENT', '*', outcome, seconds);
    else this.observer!.messageAnswered('CALLBACK', job.registration!.topic, outcome, seconds);
  }

  /**
   * Marks a handled EVENT done (lease protocol); returns a promise only when the store answers
   * asynchronously. Never rejects: a failure is logged and the ack goes out anyway (the handler ran).
   */
  private complete(job: Job): Promise<void> | undefined {
    const key = job.event!.id;
    let result: boolean | Promise<boolean>;
    try {
      result = this.store.complete!(key, job.owner!, this.dedupTtlMs);
    } catch (err) {
      this.completeFailed(key, err);
      return undefined;
    }
    if (typeof result === 'boolean') {
      if (!result) this.leaseLost(key);
      return undefined;
    }
    return result.then(
      (marked) => {
        if (marked !== true) this.leaseLost(key);
      },
      (err: unknown) => this.completeFailed(key, err),
    );
  }

  private leaseLost(key: string): void {
    this.log.warn(
      { eventId: key, leaseMs: this.leaseMs },
      'the dedup lease ran out before the handler finished and another delivery took the event: it may have been handled twice',
    );
  }

  private completeFailed(key: string, err: unknown): void {
    this.dedupError(
      { eventId: key, err: toError(err) },
      'dedup store failed to mark a handled event done; a redelivery after the lease may run it again',
    );
    this.observer?.dedupFailed?.('complete');
  }

  /** Releases a dedup key; returns a promise only when the store answers asynchronously. Never rejects. */
  private release(key: string, owner: string | undefined): Promise<void> | undefined {
    if (this.store.release === undefined) return undefined;
    let result: unknown;
    try {
      result = this.store.release(key, owner);
    } catch (err) {
      this.releaseFailed(key, err);
      return undefined;
    }
    if (!isThenable(result)) return undefined;
    return Promise.resolve(result).then(
      () => undefined,
      (err: unknown) => this.releaseFailed(key, err),
    );
  }

  private releaseFailed(key: string, err: unknown): void {
    this.dedupError(
      { eventId: key, err: toError(err) },
      'dedup store failed to release a key; a redelivery may wait for the lease or be skipped',
    );
    this.observer?.dedupFailed?.('release');
  }

  /** Logs a dedup store failure within {@link dedupLogBudget}; the next line let through counts the rest. */
  private dedupError(fields: Record<string, unknown>, message: string): void {
    const suppressed = this.dedupLogBudget.take();
    if (suppressed === undefined) return;
    this.log.error(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }

  private deliver(job: Job, ack: UpstreamAck, wasRunning: boolean): void {
    job.state = DONE;
    this.sendNow(job.conn, ack);
    this.retire(job);
    if (wasRunning) {
      this.running--;
      this.pump();
    }
    this.notifyIfIdle();
  }

  /** Bookkeeping when a job leaves (acked or dropped). */
  private retire(job: Job): void {
    job.state = DONE;
    this.outstanding--;
    const conn = job.conn;
    conn.pending--;
    if (conn.retiring && conn.pending === 0) this.hooks.onDrained(conn);
  }

  private notifyIfIdle(): void {
    if (this.outstanding !== 0 || this.idleWaiters.length === 0) return;
    if (this.drainTimer !== undefined) {
      clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends an ack on `conn`, the socket its frame came in on; a closed socket is logged, not thrown. */
  private sendNow(conn: StreamConnection, ack: UpstreamAck): void {
    let sent = false;
    try {
      sent = conn.send(serializeAck(ack));
    } catch (err) {
      this.log.warn(
        { messageId: ack.headers.messageId, connection: conn.id, err: toError(err) },
        'ack could not be sent',
      );
      return;
    }
    if (!sent)
      this.log.warn(
        { messageId: ack.headers.messageId, connection: conn.id, code: ack.code },
        'ack not sent: its connection is closed (the platform will redeliver)',
      );
  }
}

/** UTF-8 text of a ws message (`toString()` without an encoding argument takes Node's fastest path). */
function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.from(data).toString();
}
