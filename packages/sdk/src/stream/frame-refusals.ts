import { toError } from '../errors/coded-error.js';
import { LogBudget } from '../logging/log-budget.js';
import type { Logger } from '../logging/logger.js';
import { AckCode, errorAck, type UpstreamAck } from '../protocol/ack.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { StreamConnection } from './connection.js';
import { type StreamObserver, UNREGISTERED_TOPIC } from './observer.js';

/** Longest topic quoted back in an answer or a log line. */
const TOPIC_IN_ERROR_MAX = 200;

/** Options of {@link FrameRefusals}. */
export interface FrameRefusalsOptions {
  logger: Logger;
  /** Rate limit of each kind of warning. */
  log: { burst: number; perSecond: number };
  /** Sends an answer on the socket the frame came in on. */
  send(conn: StreamConnection, ack: UpstreamAck): void;
  observer?: StreamObserver | undefined;
}

/**
 * The frames the dispatcher answers without a handler: malformed frames (400, or dropped when they
 * carry no message id), EVENTs when no event handler is registered and CALLBACKs of a topic nobody
 * handles (404). Every such frame is answered; a flood of them is logged at a bounded rate, and the
 * next line let through counts what was left out.
 */
export class FrameRefusals {
  readonly #log: Logger;
  readonly #send: FrameRefusalsOptions['send'];
  readonly #observer: StreamObserver | undefined;
  readonly #malformed: LogBudget;
  readonly #unhandled: LogBudget;

  constructor(opts: FrameRefusalsOptions) {
    this.#log = opts.logger;
    this.#send = opts.send;
    this.#observer = opts.observer;
    this.#malformed = new LogBudget(opts.log.burst, opts.log.perSecond);
    this.#unhandled = new LogBudget(opts.log.burst, opts.log.perSecond);
  }

  /** A frame that failed to parse or decode: 400 when it has a message id. */
  malformed(conn: StreamConnection, err: unknown): void {
    if (!(err instanceof ProtocolError)) {
      this.#log.error({ connection: conn.id, err: toError(err) }, 'unexpected error while reading a frame');
      return;
    }
    const suppressed = this.#malformed.take();
    if (suppressed !== undefined)
      this.#log.warn(
        {
          connection: conn.id,
          slot: conn.slot,
          messageId: err.messageId,
          field: err.field,
          reason: err.message,
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        err.messageId === undefined
          ? 'malformed frame dropped (no message id to answer)'
          : 'malformed frame answered 400',
      );
    if (err.messageId !== undefined)
      this.#send(conn, errorAck(err.messageId, AckCode.BadRequest, err.message));
  }

  /** An EVENT while no event handler is registered: 404. */
  noEventHandler(conn: StreamConnection, messageId: string): void {
    const suppressed = this.#unhandled.take();
    if (suppressed !== undefined)
      this.#log.warn(
        { messageId, connection: conn.id, ...(suppressed > 0 ? { suppressed } : {}) },
        'EVENT received but no event handler is registered',
      );
    this.#send(conn, errorAck(messageId, AckCode.NotFound, 'no EVENT handler registered'));
    this.#observer?.messageAnswered('EVENT', '*', 'not_found', undefined);
  }

  /** A CALLBACK of a topic without handler: 404 naming the topic (shortened). */
  unknownTopic(conn: StreamConnection, messageId: string, topic: string): void {
    const shown = topic.length > TOPIC_IN_ERROR_MAX ? `${topic.slice(0, TOPIC_IN_ERROR_MAX)}...` : topic;
    const suppressed = this.#unhandled.take();
    if (suppressed !== undefined)
      this.#log.warn(
        { messageId, topic: shown, connection: conn.id, ...(suppressed > 0 ? { suppressed } : {}) },
        'CALLBACK for a topic without handler; answered 404',
      );
    this.#send(conn, errorAck(messageId, AckCode.NotFound, `topic not handled: ${shown}`));
    this.#observer?.messageAnswered('CALLBACK', UNREGISTERED_TOPIC, 'not_found', undefined);
  }

  /** Logs how many lines each budget held back since its last line. */
  flush(): void {
    const malformed = this.#malformed.flush();
    if (malformed > 0)
      this.#log.warn(
        { suppressed: malformed },
        'malformed frames since the last such warning were not logged',
      );
    const unhandled = this.#unhandled.flush();
    if (unhandled > 0)
      this.#log.warn(
        { suppressed: unhandled },
        'messages without a handler since the last such warning were not logged',
      );
  }
}
