import { type JsonValue, readCallbackResponse, type UpstreamAck } from '@dingtalk-skills/sdk/protocol';
import { ackRecord, malformedAckRecord } from './ack-records.js';
import type { GatewayCore } from './core.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { buildFrame, newMessageId } from './frames.js';

/** A CALLBACK for an app's connections (e.g. a Graph API invocation on `/v1.0/graph/api/invoke`). */
export interface CallbackInvocation {
  /** The app (default: the first registered app). */
  clientId?: string;
  topic: string;
  /** The payload; serialized as the frame's `data` JSON string. */
  data?: unknown;
  /** Sent as the frame's `data` exactly as given; overrides `data`. */
  rawData?: string;
  /** How long to await the answer (default `callbackTimeoutMs`). */
  timeoutMs?: number;
  /**
   * Delays (sandbox clock) before each redelivery of a CALLBACK left unanswered (no ack in time, the
   * connection lost, nobody subscribed); default the sandbox's `callbackRedelivery` (`[20_000, 60_000]`; `[]` = none).
   */
  redelivery?: number[];
}

/** Stable codes of `{status: 'error'}` callback results. */
export type CallbackErrorCode =
  | 'noSubscriber'
  | 'unknownApp'
  | 'frameTooLarge'
  | 'connectionLost'
  | 'clientError'
  | 'malformedAck'
  | 'gatewayClosed'
  | 'connectionNotOpen'
  | 'unknownConnection';

/** What the platform got back for a CALLBACK. */
export type CallbackResult =
  | {
      status: 'answered';
      /** The ack data's `response` (null when the ack held none). */
      response: JsonValue | null;
      messageId: string;
      connectionId: string;
      ackCode: number;
    }
  | { status: 'timeout'; messageId: string; connectionId: string; timeoutMs: number }
  | {
      status: 'error';
      code: CallbackErrorCode;
      message: string;
      messageId?: string;
      connectionId?: string;
      ackCode?: number;
    };

/**
 * CALLBACK delivery: one random connection subscribed to the topic gets the frame; the platform awaits
 * the ack up to the timeout and tells the caller what came back. Per the redelivery schedule
 * (`callbackRedelivery`, default `[20_000, 60_000]`: DingTalk's Node SDK documents that an unanswered push
 * is sent again within about 60 s, users report 16-60 s; `[]` turns it off), an unanswered CALLBACK is
 * sent again (same data, new messageId, any live connection) after each delay until one is answered;
 * the caller has its result already, so those answers only reach the delivery log.
 */
export class CallbackInvoker {
  readonly #core: GatewayCore;

  constructor(core: GatewayCore) {
    this.#core = core;
  }

  /** Never rejects: failures are `{status: 'error', code}` (no subscriber: immediately). */
  async invoke(input: CallbackInvocation): Promise<CallbackResult> {
    let app: ReturnType<GatewayCore['resolveApp']>;
    try {
      app = this.#core.resolveApp(input.clientId);
    } catch (err) {
      return errorResult(err);
    }
    const result = await this.#attempt(app.clientId, input, 1);
    if (unanswered(result)) this.#redeliverLater(app.clientId, input, 2);
    return result;
  }

  /** Schedules attempt `attempt` (2 = the first redelivery) per the schedule, if it has that step. */
  #redeliverLater(clientId: string, input: CallbackInvocation, attempt: number): void {
    const schedule = input.redelivery ?? this.#core.ctx.options.callbackRedelivery;
    const delay = schedule[attempt - 2];
    if (delay === undefined) {
      if (attempt > 2)
        this.#core.ctx.logger.warn(
          { clientId, topic: input.topic, attempts: attempt - 1 },
          'callback not answered after the last redelivery: giving up',
        );
      return;
    }
    this.#core.timers.clockTimeout(delay, () => {
      void this.#attempt(clientId, input, attempt).then((result) => {
        if (unanswered(result)) this.#redeliverLater(clientId, input, attempt + 1);
        else
          this.#core.ctx.logger.info(
            { clientId, topic: input.topic, attempt, status: result.status, messageId: result.messageId },
            'redelivered callback answered',
          );
      });
    });
  }

  /** Sends the CALLBACK once to a live subscriber and awaits its answer. */
  #attempt(clientId: string, input: CallbackInvocation, attempt: number): Promise<CallbackResult> {
    const { ctx, pending } = this.#core;
    const conn = this.#core.pick(clientId, 'CALLBACK', input.topic);
    if (conn === undefined)
      return Promise.resolve({
        status: 'error',
        code: 'noSubscriber',
        message: `no live connection of app ${clientId} subscribes to CALLBACK "${input.topic}"`,
      });
    const messageId = newMessageId();
    const frame = buildFrame(
      'CALLBACK',
      { topic: input.topic, messageId, appId: clientId, connectionId: conn.id, now: ctx.clock.now() },
      input.rawData ?? JSON.stringify(input.data ?? {}),
    );
    let record: ReturnType<GatewayCore['send']>;
    try {
      record = this.#core.send(conn, frame, { attempt });
    } catch (err) {
      return Promise.resolve(errorResult(err));
    }
    const timeoutMs = input.timeoutMs ?? ctx.options.callbackTimeoutMs;
    const where = { messageId, connectionId: conn.id };
    return new Promise<CallbackResult>((resolve) => {
      pending.expect(messageId, conn.id, 'callback', record, timeoutMs, {
        onAck: (ack: UpstreamAck, rec) => {
          rec.ack = ackRecord(ack, ctx.clock.now());
          if (ack.code !== 200) {
            rec.outcome = 'error';
            resolve({
              status: 'error',
              code: 'clientError',
              message: `the client answered ${ack.code} ${ack.message}`.trim(),
              ackCode: ack.code,
              ...where,
            });
            return;
          }
          const response = readCallbackResponse(ack); // throws ProtocolError when data is not JSON
          rec.outcome = 'answered';
          resolve({ status: 'answered', response: response ?? null, ackCode: ack.code, ...where });
        },
        onMalformed: (error, rec) => {
          rec.ack = malformedAckRecord(error, ctx.clock.now());
          rec.outcome = 'malformed';
          resolve({ status: 'error', code: 'malformedAck', message: error, ...where });
        },
        onTimeout: (rec) => {
          rec.outcome = 'timeout';
          resolve({ status: 'timeout', timeoutMs, ...where });
        },
        onLost: (rec) => {
          rec.outcome = 'connectionLost';
          resolve({
            status: 'error',
            code: 'connectionLost',
            message: 'the connection closed before the callback was answered',
            ...where,
          });
        },
      });
    });
  }
}

/** No answer came back: what a redelivery schedule retries (an error answer is an answer). */
function unanswered(result: CallbackResult): boolean {
  return (
    result.status === 'timeout' ||
    (result.status === 'error' && (result.code === 'connectionLost' || result.code === 'noSubscriber'))
  );
}

function errorResult(err: unknown): CallbackResult {
  // heldEventsFull is an EVENT-only answer; a callback never gets it.
  if (err instanceof GatewayError && err.code !== GatewayErrorCode.HeldEventsFull)
    return { status: 'error', code: err.code, message: err.message };
  throw err;
}
