import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { EventStatus } from '../protocol/ack.js';
import type { StreamEvent } from '../protocol/event.js';
import type { FrameHeaders } from '../protocol/frame.js';
import type { Subscription } from '../protocol/gateway.js';

/** A CALLBACK as handed to its handler. `data` is the frame's raw JSON text, parsed by whoever owns the topic. */
export interface CallbackMessage {
  topic: string;
  messageId: string;
  headers: FrameHeaders;
  /** Raw JSON text of the frame's `data`. */
  data: string;
}

/** What a handler gets beside its message. */
export interface StreamHandlerContext {
  /**
   * Aborted when the message is answered without this handler: its deadline passed, or `stop()` gave
   * up waiting. Pass it to `fetch` and the like so abandoned work stops. Made on first use.
   */
  readonly signal: AbortSignal;
}

/**
 * Handles every EVENT. Return nothing or `'SUCCESS'` to ack SUCCESS, `'LATER'` to have it delivered
 * again later; a throw acks LATER too (and is logged with the message id).
 */
export type StreamEventHandler = (
  event: StreamEvent,
  context: StreamHandlerContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing acks SUCCESS.
) => Promise<EventStatus | void> | EventStatus | void;

/**
 * Handles the CALLBACKs of one topic. The (awaited) result is sent as `{"response": result}`; a throw
 * answers 500 "internal error" (the error is logged, never sent).
 */
export type StreamCallbackHandler = (
  message: CallbackMessage,
  context: StreamHandlerContext,
) => Promise<unknown> | unknown;

/** Per-topic options of {@link StreamClient.onCallback}. */
export interface StreamCallbackOptions {
  /** Deadline of this topic's handler (default: the client's `handlerTimeoutMs`). */
  timeoutMs?: number;
  /**
   * Builds the response sent when the handler misses its deadline (acked 200 with `{"response": ...}`).
   * Without it a timeout answers 500 "handler timeout".
   */
  onTimeout?: (message: CallbackMessage) => unknown;
}

/** A registered callback topic. */
export interface CallbackRegistration {
  topic: string;
  handler: StreamCallbackHandler;
  timeoutMs: number;
  onTimeout: ((message: CallbackMessage) => unknown) | undefined;
}

/** The handlers of one client; frozen once the client starts. */
export class HandlerRegistry {
  eventHandler: StreamEventHandler | undefined;
  readonly callbacks = new Map<string, CallbackRegistration>();
  private frozen = false;

  constructor(private readonly defaultTimeoutMs: number) {}

  setEventHandler(handler: StreamEventHandler): void {
    this.assertOpen('onEvent');
    if (typeof handler !== 'function') throw configError('onEvent: handler must be a function');
    if (this.eventHandler) throw configError('onEvent: an event handler is already registered');
    this.eventHandler = handler;
  }

  addCallback(topic: string, handler: StreamCallbackHandler, options: StreamCallbackOptions = {}): void {
    this.assertOpen('onCallback');
    if (typeof topic !== 'string' || topic === '')
      throw configError('onCallback: topic must be a non-empty string');
    if (typeof handler !== 'function') throw configError(`onCallback(${topic}): handler must be a function`);
    if (this.callbacks.has(topic)) throw configError(`onCallback(${topic}): a handler is already registered`);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw configError(`onCallback(${topic}): timeoutMs must be a positive integer`);
    if (options.onTimeout !== undefined && typeof options.onTimeout !== 'function')
      throw configError(`onCallback(${topic}): onTimeout must be a function`);
    this.callbacks.set(topic, { topic, handler, timeoutMs, onTimeout: options.onTimeout });
  }

  /** What `connections/open` subscribes to: EVENT `*` when an event handler exists, one CALLBACK per topic. */
  subscriptions(): Subscription[] {
    const subs: Subscription[] = [];
    if (this.eventHandler) subs.push({ type: 'EVENT', topic: '*' });
    for (const topic of this.callbacks.keys()) subs.push({ type: 'CALLBACK', topic });
    return subs;
  }

  freeze(): void {
    this.frozen = true;
  }

  private assertOpen(method: string): void {
    if (this.frozen) throw configError(`${method}: register handlers before start()`);
  }
}

function configError(message: string): DingTalkSkillsError {
  return new DingTalkSkillsError(ErrorCode.Config, message);
}
