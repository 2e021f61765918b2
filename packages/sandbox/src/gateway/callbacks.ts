import { type JsonValue, readCallbackResponse, type UpstreamAck } from '@dingtalk-skills/sdk';
import { ackRecord, malformedAckRecord } from './ack-records.js';
import type { GatewayCore } from './core.js';
import { GatewayError } from './errors.js';
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
 * the ack up to the timeout. No retry (the reference reports redelivery of callbacks as unverified).
 */
export class CallbackInvoker {
  readonly #core: GatewayCore;

  constructor(core: GatewayCore) {
    this.#core = core;
  }

  /** Never rejects: failures are `{status: 'error', code}` (no subscriber: immediately). */
  invoke(input: CallbackInvocation): Promise<CallbackResult> {
    const { ctx, pending } = this.#core;
    let app: ReturnType<GatewayCore['resolveApp']>;
    try {
      app = this.#core.resolveApp(input.clientId);
    } catch (err) {
      return Promise.resolve(errorResult(err));
    }
    const conn = this.#core.pick(app.clientId, 'CALLBACK', input.topic);
    if (conn === undefined)
      return Promise.resolve({
        status: 'error',
        code: 'noSubscriber',
        message: `no live connection of app ${app.clientId} subscribes to CALLBACK "${input.topic}"`,
      });
    const messageId = newMessageId();
    const frame = buildFrame(
      'CALLBACK',
      { topic: input.topic, messageId, appId: app.clientId, connectionId: conn.id, now: ctx.clock.now() },
      input.rawData ?? JSON.stringify(input.data ?? {}),
    );
    let record: ReturnType<GatewayCore['send']>;
    try {
      record = this.#core.send(conn, frame);
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

function errorResult(err: unknown): CallbackResult {
  if (err instanceof GatewayError) return { status: 'error', code: err.code, message: err.message };
  throw err;
}
