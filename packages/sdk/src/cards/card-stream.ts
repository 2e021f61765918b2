import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { isOpenApiError, OpenApiError } from '../openapi/errors.js';
import type { OpenApiCall } from '../openapi/pipeline.js';
import { answeredFailure, type CardApi, FlowStatus } from './card-api.js';
import type { CardCallPriority, CardPacer } from './pacer.js';
import { type AiCardTarget, describeTarget } from './target.js';

/** Where a stream is. */
export type CardStreamState = 'starting' | 'streaming' | 'finishing' | 'finished' | 'failed' | 'fallback';

/** How a stream ended: the card shows the text, the fallback message carried it, or neither. */
export type CardOutcome = 'card' | 'fallback' | 'lost';

/** What {@link AiCardStream.finish} and {@link AiCardStream.fail} resolve to. */
export interface CardResult {
  outcome: CardOutcome;
  /** `finished` (flow status 3) or `failed` (5, by `fail()` or the watchdog). */
  status: 'finished' | 'failed';
  outTrackId: string;
  /** The full text of the reply (what the card or the fallback shows). */
  text: string;
  /** Content frames that landed (the final ones included). */
  frames: number;
  /** Why the card was not used or not finished (fallback/lost only). */
  reason?: string;
}

/** Handed to the fallback: send `text` as a markdown message to `target` (e.g. `reply.markdown`). */
export interface CardFallback {
  target: AiCardTarget;
  outTrackId: string;
  /** The full reply text (with the failure note when the reply failed). */
  text: string;
  status: 'finished' | 'failed';
  reason: string;
}

/** Sends the reply as a markdown message when the card cannot carry it. */
export type CardFallbackHandler = (fallback: CardFallback) => Promise<void>;

/** Timing and text settings of one stream (resolved by AiCards). */
export interface CardStreamSettings {
  intervalMs: number;
  finishTimeoutMs: number;
  maxChars: number;
  failureNote: string;
  /** Failed non-QPS content frames in a row before the stream stops sending frames until finish. */
  maxFrameFailures: number;
}

/** What `#send` answers when the call's builder gave up its turn. */
const SKIPPED = Symbol('skipped');
/** Swallows the outcome: only the frame having settled matters to the closing calls. */
const noop = () => undefined;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One streaming AI card reply (AI卡片流式更新). `append` accumulates text; a pump sends the FULL text
 * so far, at most one call per `intervalMs` per card and only when the app-wide pacer gives a turn, and
 * reads the text when its turn comes, so pending updates coalesce (only the latest text is sent, and
 * nothing appended is lost). `finish` sends the final frame and flow status 3; `fail` marks the card
 * failed (flow status 5) with a note. When the card cannot be created or closed, the fallback sends
 * the text as a markdown message.
 */
export class AiCardStream {
  readonly outTrackId: string;
  readonly target: AiCardTarget;
  readonly done: Promise<CardResult>;
  #text = '';
  #sent: string | undefined;
  #state: CardStreamState = 'starting';
  #frames = 0;
  #lastCallAt = 0;
  #lastActivity = Date.now();
  readonly #startedAt = Date.now();
  #ready: Promise<boolean>;
  #pump: Promise<void> | undefined;
  #closing = false;
  #frameFailures = 0;
  #startFailure: string | undefined;
  #warnedLate = false;
  #pendingText = '';
  #frameOnWire: Promise<void> | undefined;
  #resolve!: (r: CardResult) => void;
  #ending: Promise<CardResult> | undefined;
  readonly #api: CardApi;
  readonly #pacer: CardPacer;
  readonly #s: CardStreamSettings;
  readonly #fallback: CardFallbackHandler | undefined;
  readonly #logger: Logger;

  constructor(init: {
    outTrackId: string;
    target: AiCardTarget;
    api: CardApi;
    pacer: CardPacer;
    settings: CardStreamSettings;
    fallback: CardFallbackHandler | undefined;
    logger: Logger;
  }) {
    this.outTrackId = init.outTrackId;
    this.target = init.target;
    this.#api = init.api;
    this.#pacer = init.pacer;
    this.#s = init.settings;
    this.#fallback = init.fallback;
    this.#logger = init.logger.child({ outTrackId: init.outTrackId, target: describeTarget(init.target) });
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#ready = this.#start();
  }

  get state(): CardStreamState {
    return this.#state;
  }

  /** The full text so far. */
  get text(): string {
    return this.#text;
  }

  /** ms since epoch of the last append (or the start): what the watchdog judges. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  get startedAt(): number {
    return this.#startedAt;
  }

  /** True once finish/fail was called (or the watchdog ended it). */
  get closed(): boolean {
    return this.#closing;
  }

  /** Adds `text` to the reply; the card shows the whole text so far at its next frame. */
  append(text: string): void {
    if (typeof text !== 'string')
      throw new DingTalkSkillsError(ErrorCode.InvalidInput, 'AiCardStream.append: text must be a string');
    if (this.#closing) {
      if (!this.#warnedLate) this.#logger.warn({}, 'append after finish/fail is ignored');
      this.#warnedLate = true;
      return;
    }
    if (text === '') return;
    this.#text += text;
    this.#lastActivity = Date.now();
    this.#pump ??= this.#runPump().finally(() => {
      this.#pump = undefined;
    });
  }

  /** Ends the reply: the final frame with the full text (`finalText` replaces it when given), flow status 3. */
  finish(finalText?: string): Promise<CardResult> {
    if (finalText !== undefined && !this.#closing) this.#text = String(finalText);
    return this.#end('finished', undefined);
  }

  /** Ends the reply as failed: the text so far plus the failure note, flow status 5. `err` is logged, never shown. */
  fail(err?: unknown): Promise<CardResult> {
    return this.#end('failed', err);
  }

  #end(status: 'finished' | 'failed', err: unknown): Promise<CardResult> {
    this.#closing = true;
    this.#ending ??= this.#close(status, err).then((result) => {
      this.#resolve(result);
      return result;
    });
    return this.#ending;
  }

  async #start(): Promise<boolean> {
    const deadline = Date.now() + this.#s.finishTimeoutMs;
    try {
      for (const step of this.#api.startCalls(this.outTrackId, this.target)) {
        let body: unknown;
        await this.#closingCall(step.call, step.what, deadline, 'start', (b) => {
          body = b;
        });
        step.check?.(body);
      }
    } catch (err) {
      this.#startFailure = reasonOf(err);
      this.#state = 'fallback';
      this.#logger.warn(
        { err: summary(err) },
        'AI card could not be created/delivered: the reply falls back to a message',
      );
      return false;
    }
    if (this.#state === 'starting') this.#state = 'streaming';
    return true;
  }

  /** Sends content frames while the text changes and the stream is open. */
  async #runPump(): Promise<void> {
    if (!(await this.#ready)) return;
    while (!this.#closing && this.#text !== this.#sent && this.#frameFailures < this.#s.maxFrameFailures) {
      await this.#gap();
      if (this.#closing) return;
      const first = this.#sent === undefined;
      try {
        const body = await this.#send(
          () => {
            // The reply is closing: its final frame carries the text; this turn goes unused.
            if (this.#closing) return undefined;
            const content = this.#visible(false);
            this.#pendingText = this.#text;
            return first
              ? this.#api.updateCall(this.outTrackId, FlowStatus.Inputting, content)
              : this.#api.streamingCall(this.outTrackId, content, false);
          },
          first ? 'first frame' : 'frame',
        );
        if (body === SKIPPED) return;
        this.#sent = this.#pendingText;
        this.#frames += 1;
        this.#frameFailures = 0;
      } catch (err) {
        if (isOpenApiError(err) && err.kind === 'rate-limit') continue; // the pacer pauses; retry with the latest text
        this.#frameFailures += 1;
        this.#logger.warn({ err: summary(err), failures: this.#frameFailures }, 'AI card frame failed');
        // A refused call (400, permission, auth) will be refused again: stop frames until finish.
        if (isOpenApiError(err) && !err.isRetryable) this.#frameFailures = this.#s.maxFrameFailures;
      }
    }
  }

  async #close(status: 'finished' | 'failed', err: unknown): Promise<CardResult> {
    if (err !== undefined)
      this.#logger.warn({ err: summary(err) }, 'AI card reply failed: marking the card failed');
    const started = await this.#ready;
    await this.#frameOnWire; // a frame already sent must land before the final one
    const text = status === 'failed' ? `${this.#text}${this.#s.failureNote}` : this.#text;
    if (!started) return this.#fallBack(status, text, this.#startFailure ?? 'card not created');
    this.#state = 'finishing';
    const deadline = Date.now() + this.#s.finishTimeoutMs;
    const flow = status === 'finished' ? FlowStatus.Finished : FlowStatus.Failed;
    try {
      await this.#closingCall(
        () => this.#api.streamingCall(this.outTrackId, this.#clip(text), true, status === 'failed'),
        'final frame',
        deadline,
        'close',
      );
      this.#frames += 1;
      await this.#closingCall(
        () => this.#api.updateCall(this.outTrackId, flow, this.#clip(text)),
        'flow status',
        deadline,
        'close',
      );
    } catch (closeErr) {
      return this.#fallBack(status, text, reasonOf(closeErr));
    }
    this.#state = status;
    this.#logger.debug({ status, frames: this.#frames, chars: text.length }, 'AI card closed');
    return { outcome: 'card', status, outTrackId: this.outTrackId, text, frames: this.#frames };
  }

  /** A closing call, repeated (new guid, latest text) on QPS 403s and transient failures until `deadline`. */
  async #closingCall(
    build: OpenApiCall | (() => OpenApiCall),
    what: string,
    deadline: number,
    priority: CardCallPriority,
    answer?: (body: unknown) => void,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.#gap();
      try {
        const body = await this.#send(build, what, priority);
        answer?.(body);
        return;
      } catch (err) {
        if (!(await this.#mayRetry(err, attempt, deadline))) throw err;
      }
    }
  }

  /** Whether to repeat after `err`: QPS 403 (the pacer pauses) and transient failures, within the deadline. */
  async #mayRetry(err: unknown, attempt: number, deadline: number): Promise<boolean> {
    if (Date.now() >= deadline || !isOpenApiError(err)) return false;
    if (err.kind === 'rate-limit') return true;
    if ((err.kind === 'transient' || err.kind === 'server') && attempt < 4) {
      await sleep(Math.min(2000, 250 * 2 ** (attempt - 1)));
      return true;
    }
    return false;
  }

  async #fallBack(status: 'finished' | 'failed', text: string, reason: string): Promise<CardResult> {
    const base = { status, outTrackId: this.outTrackId, text, frames: this.#frames, reason };
    this.#state = 'fallback';
    if (!this.#fallback) {
      this.#logger.error(
        { reason, chars: text.length },
        'AI card could not carry the reply and no fallback is configured',
      );
      return { outcome: 'lost', ...base };
    }
    try {
      await this.#fallback({ target: this.target, outTrackId: this.outTrackId, text, status, reason });
      this.#logger.info({ reason, chars: text.length }, 'AI card reply sent as a markdown message instead');
      return { outcome: 'fallback', ...base };
    } catch (fbErr) {
      this.#logger.error(
        { err: summary(fbErr), reason },
        'AI card fallback message failed: the reply is lost',
      );
      return { outcome: 'lost', ...base, reason: `${reason}; fallback: ${reasonOf(fbErr)}` };
    }
  }

  /** Waits until `intervalMs` after this card's previous call. */
  async #gap(): Promise<void> {
    const wait = this.#lastCallAt + this.#s.intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /** One card call through the pacer; the call is built when the turn comes (latest text). */
  async #send(
    call: OpenApiCall | (() => OpenApiCall | undefined),
    what: string,
    priority: CardCallPriority = 'frame',
  ): Promise<unknown> {
    return this.#pacer.run(async () => {
      const c = typeof call === 'function' ? call() : call;
      if (c === undefined) return SKIPPED;
      this.#lastCallAt = Date.now();
      const request = this.#api.request(c);
      if (priority === 'frame') this.#frameOnWire = request.then(noop, noop);
      const body = await request;
      if (answeredFailure(body))
        throw new OpenApiError({
          status: 200,
          apiCode: 'CardCallFailed',
          apiMessage: `${what}: success false`,
          requestId: '',
          api: `${c.method} ${c.path}`,
          idempotent: false,
        });
      return body;
    }, priority);
  }

  /** The text a non-final frame shows: clipped, trailing newlines trimmed (no flicker, OC). */
  #visible(final: boolean): string {
    const text = final ? this.#text : trimTrailingNewlines(this.#text);
    return this.#clip(text);
  }

  #clip(text: string): string {
    return text.length <= this.#s.maxChars ? text : `${text.slice(0, this.#s.maxChars - 1)}…`;
  }
}

function reasonOf(err: unknown): string {
  if (isOpenApiError(err)) return `${err.api}: ${err.status} ${err.apiCode}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** An error for logs: code and api, never a body or a token. */
function summary(err: unknown): Record<string, unknown> {
  if (isOpenApiError(err))
    return { api: err.api, status: err.status, apiCode: err.apiCode, requestId: err.requestId };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** `text` without its trailing newlines (a loop: the regex /\n+$/ backtracks quadratically). */
function trimTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  return end === text.length ? text : text.slice(0, end);
}
