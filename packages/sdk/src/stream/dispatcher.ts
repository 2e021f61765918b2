import { performance } from 'node:perf_hooks';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { eventAck, type UpstreamAck } from '../protocol/ack.js';
import { decodeEvent } from '../protocol/event.js';
import { type DownstreamFrame, type ParseFrameOptions, parseDownstreamFrame } from '../protocol/frame.js';
import { callbackFailureAnswer, callbackResponse, callbackTimeoutAnswer } from './callback-answers.js';
import type { RawData, StreamConnection } from './connection.js';
import type { DispatcherHooks, DispatcherOptions, DispatcherStatus } from './dispatcher-options.js';
import { type DedupDecision, type DedupSettlement, EventDedup } from './event-dedup.js';
import { answerSystemFrame, frameText, sendAck } from './frame-io.js';
import { FrameRefusals } from './frame-refusals.js';
import type { CallbackMessage, HandlerRegistry } from './handlers.js';
import { InFlightGate } from './in-flight-gate.js';
import {
  ANSWERING,
  CallbackJob,
  DONE,
  EventJob,
  isThenable,
  type Job,
  JobContext,
  QUEUED,
  RUNNING,
} from './job.js';
import { JobList } from './job-list.js';
import type { StreamMessageOutcome, StreamObserver } from './observer.js';

/** The reason of the answers `stop()` gives when its drain deadline passes. */
const STOPPING = 'client stopping';

/**
 * Frame codec -> dispatch -> handler -> ack. Parses each inbound message with the protocol codec,
 * answers SYSTEM frames, dedupes EVENTs, runs handlers under `maxInFlight`, enforces deadlines with one
 * coarse sweep timer, and sends each ack on the socket the frame came in on. Never throws to its caller.
 */
export class Dispatcher {
  private readonly registry: HandlerRegistry;
  private readonly dedup: EventDedup;
  private readonly refusals: FrameRefusals;
  private readonly observer: StreamObserver | undefined;
  private readonly eventTimeoutMs: number;
  private readonly parseOptions: ParseFrameOptions;
  private readonly log: Logger;
  private readonly hooks: DispatcherHooks;
  private readonly sweepMs: number;
  /** The longest CALLBACK deadline: how long a drain waits for CALLBACKs past its own timeout. */
  private readonly callbackTimeoutMs: number;

  /** Jobs that still await a decision (queued or running): what the deadline sweep looks at. */
  private readonly jobs = new JobList();
  private readonly gate: InFlightGate;
  /** Admitted and not yet acked (or dropped). */
  private outstanding = 0;
  private abandoned = 0;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: DispatcherOptions) {
    this.registry = opts.registry;
    this.dedup = new EventDedup({
      store: opts.dedupStore,
      ttlMs: opts.dedupTtlMs,
      handlerTimeoutMs: opts.handlerTimeoutMs,
      leaseMarginMs: opts.leaseMarginMs,
      leaseMs: opts.leaseMs,
      redeliveryHorizonMs: opts.redeliveryHorizonMs,
      logger: opts.logger,
      observer: opts.observer,
    });
    this.refusals = new FrameRefusals({
      logger: opts.logger,
      log: opts.malformedFrameLog,
      send: (conn, ack) => sendAck(conn, ack, opts.logger),
      observer: opts.observer,
    });
    this.observer = opts.observer;
    this.eventTimeoutMs = opts.handlerTimeoutMs;
    this.gate = new InFlightGate(opts.maxInFlight, opts.hooks);
    this.parseOptions = { maxBytes: opts.maxFrameBytes };
    this.log = opts.logger;
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
    return { inFlight: this.gate.running, queued: this.gate.queued, abandoned: this.abandoned };
  }

  /** Entry point for every inbound WebSocket message. */
  readonly onFrame = (conn: StreamConnection, data: RawData, now: number): void => {
    let frame: DownstreamFrame;
    try {
      frame = parseDownstreamFrame(frameText(data), this.parseOptions);
    } catch (err) {
      this.refusals.malformed(conn, err);
      return;
    }
    if (frame.type === 'SYSTEM') {
      answerSystemFrame(conn, frame, this.log, (c, reason) => this.hooks.onDisconnect(c, reason));
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
      const handler = this.registry.eventHandler;
      if (handler === undefined) {
        this.refusals.noEventHandler(conn, messageId);
        return;
      }
      let event: ReturnType<typeof decodeEvent>;
      try {
        event = decodeEvent(frame);
      } catch (err) {
        this.refusals.malformed(conn, err);
        return;
      }
      this.admit(new EventJob(conn, messageId, now + this.eventTimeoutMs, event, handler));
      return;
    }
    const topic = frame.headers.topic;
    const reg = this.registry.callbacks.get(topic);
    if (reg === undefined) {
      this.refusals.unknownTopic(conn, messageId, topic);
      return;
    }
    const message: CallbackMessage = { topic, messageId, headers: frame.headers, data: frame.data };
    this.admit(new CallbackJob(conn, messageId, now + reg.timeoutMs, message, reg));
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
    const dropped = this.gate.dropQueued((job) => job.kind === 'event');
    for (const job of dropped) {
      this.jobs.delete(job);
      this.retire(job);
    }
    if (dropped.length > 0)
      this.log.info({ dropped: dropped.length }, 'stopping: queued EVENTs left unacked for redelivery');
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
        for (const job of this.jobs) if (job.kind === 'event') this.expire(job, STOPPING);
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
    this.dedup.dispose();
    this.refusals.flush();
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.sweepTimer = this.drainTimer = undefined;
  }

  // ---- admission and flow control ------------------------------------------------------------------

  private admit(job: Job): void {
    if (this.observer !== undefined) job.receivedAt = performance.now();
    this.outstanding++;
    job.conn.pending++;
    this.jobs.add(job);
    if (this.sweepTimer === undefined) this.sweepTimer = setInterval(this.sweep, this.sweepMs);
    if (this.gate.enter(job)) this.run(job);
  }

  private run(job: Job): void {
    job.state = RUNNING;
    if (job.kind === 'callback') {
      this.invoke(job);
      return;
    }
    const decision = this.dedup.decide(job.event.id, job.messageId);
    if (isThenable(decision)) decision.then((d) => this.decided(job, d));
    else this.decided(job, decision);
  }

  /** A handler slot was freed: start queued jobs, and read again once there is room. */
  private pump(): void {
    for (let job = this.gate.next(); job !== undefined; job = this.gate.next()) this.run(job);
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

  // ---- handlers ------------------------------------------------------------------------------------

  /** Runs the EVENT's handler when the dedup decision says so; a duplicate or a held lease is acked. */
  private decided(job: EventJob, decision: DedupDecision): void {
    if (job.state !== RUNNING) {
      // Timed out (or stopped) while the claim was pending: nothing ran, so give the key back.
      if (decision.kind === 'run') decision.claim?.settle('release');
      return;
    }
    if (decision.kind === 'duplicate') {
      this.log.debug(
        { messageId: job.messageId, eventId: job.event.id },
        'duplicate event acked without running the handler',
      );
      this.answer(job, eventAck(job.messageId, 'SUCCESS', 'duplicate'), 'keep', 'duplicate');
      return;
    }
    if (decision.kind === 'in-progress') {
      this.log.debug(
        { messageId: job.messageId, eventId: job.event.id },
        'event is in progress elsewhere (its lease is held); acked LATER without running the handler',
      );
      this.answer(job, eventAck(job.messageId, 'LATER', 'in progress'), 'keep', 'in_progress');
      return;
    }
    job.claim = decision.claim;
    this.invoke(job);
  }

  /** Calls the job's handler; its result (or throw) is taken by {@link settled} / {@link failed}. */
  private invoke(job: Job): void {
    job.invoked = true;
    let result: unknown;
    try {
      result =
        job.kind === 'event'
          ? job.handler(job.event, new JobContext(job))
          : job.registration.handler(job.message, new JobContext(job));
    } catch (err) {
      this.failed(job, err);
      return;
    }
    if (!isThenable(result)) {
      this.settled(job, result);
      return;
    }
    result.then(
      (value) => this.settled(job, value),
      (err: unknown) => this.failed(job, err),
    );
  }

  private settled(job: Job, result: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, job.kind === 'callback' ? 'returned' : result === 'LATER' ? 'LATER' : 'SUCCESS');
      return;
    }
    if (job.kind === 'callback') {
      this.answer(job, callbackResponse(job, result, this.log), 'keep', 'answered');
      return;
    }
    if (result !== undefined && result !== 'SUCCESS' && result !== 'LATER')
      this.log.warn(
        { messageId: job.messageId },
        "event handler returned something other than 'SUCCESS', 'LATER' or nothing; acked SUCCESS",
      );
    if (result === 'LATER') this.answer(job, eventAck(job.messageId, 'LATER'), 'release', 'later');
    else this.answer(job, eventAck(job.messageId, 'SUCCESS'), 'done', 'success');
  }

  private failed(job: Job, err: unknown): void {
    if (job.state !== RUNNING) {
      this.settledLate(job, 'threw', err);
      return;
    }
    if (job.kind === 'callback') {
      this.answer(job, callbackFailureAnswer(job, err, this.log), 'keep', 'failed');
      return;
    }
    const ev = job.event;
    this.log.error(
      { messageId: job.messageId, eventId: ev.id, eventType: ev.eventType, err: toError(err) },
      'event handler failed; acked LATER',
    );
    this.answer(job, eventAck(job.messageId, 'LATER', 'handler failed'), 'release', 'failed');
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
    if (job.kind === 'event') {
      this.log.warn(
        { messageId: job.messageId, eventId: job.event.id, eventType: job.event.eventType, reason },
        'event not handled in time; acked LATER',
      );
      // A handler left running keeps its lease (no second copy runs meanwhile); when it settles, its
      // key is completed or released (settledLate).
      this.answer(job, eventAck(job.messageId, 'LATER', reason), job.invoked ? 'keep' : 'release', 'timeout');
      return;
    }
    this.answer(job, callbackTimeoutAnswer(job, reason, this.log), 'keep', 'timeout');
  }

  private settledLate(job: Job, outcome: string, err?: unknown): void {
    this.abandoned--;
    this.log.warn(
      { messageId: job.messageId, outcome, err: err === undefined ? undefined : toError(err) },
      'handler settled after its deadline; its result was dropped',
    );
    if (job.kind !== 'event' || job.claim === undefined) return;
    // The event was acked LATER at the deadline and the lease kept; now settle the key so a redelivery
    // is acked SUCCESS (done) or runs again (released) instead of waiting for the lease.
    job.claim.settle(outcome === 'SUCCESS' ? 'done' : 'release');
    job.claim = undefined;
  }

  // ---- answers -------------------------------------------------------------------------------------

  /**
   * Decides a job: an EVENT's dedup key is settled first (released after a failure so a redelivery runs
   * again; marked done after a success, so a redelivery after the ack finds it done), then the ack goes
   * out on the job's socket.
   */
  private answer(job: Job, ack: UpstreamAck, settle: DedupSettlement, outcome: StreamMessageOutcome): void {
    const wasRunning = job.state === RUNNING;
    job.state = ANSWERING;
    this.jobs.delete(job);
    if (this.observer !== undefined) this.observe(job, outcome);
    let pending: Promise<void> | undefined;
    if (job.kind === 'event' && job.claim !== undefined && settle !== 'keep') {
      pending = job.claim.settle(settle);
      job.claim = undefined;
    }
    if (pending !== undefined) {
      pending.then(() => this.deliver(job, ack, wasRunning));
      return;
    }
    this.deliver(job, ack, wasRunning);
  }

  private observe(job: Job, outcome: StreamMessageOutcome): void {
    const seconds = job.invoked ? (performance.now() - job.receivedAt) / 1000 : undefined;
    if (job.kind === 'event') this.observer?.messageAnswered('EVENT', '*', outcome, seconds);
    else this.observer?.messageAnswered('CALLBACK', job.registration.topic, outcome, seconds);
  }

  private deliver(job: Job, ack: UpstreamAck, wasRunning: boolean): void {
    job.state = DONE;
    sendAck(job.conn, ack, this.log);
    this.retire(job);
    if (wasRunning) {
      this.gate.leave();
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
}
