/**
 * What `reply.stream()` needs from the AI card module (`../cards/`): the bots folder only defines the
 * interface; the runtime is given an implementation (`cardStreamer` in the runtime config).
 */

/** Where a streaming card goes: the conversation of a bot message. */
export interface CardTarget {
  conversationId: string;
  /** `single`: `dtv1.card//IM_ROBOT.<senderStaffId>`; `group`: `dtv1.card//IM_GROUP.<conversationId>`. */
  conversationKind: 'single' | 'group';
  senderStaffId?: string;
  senderId: string;
  robotCode: string;
  /** The message being answered (for logs and idempotent card ids). */
  msgId: string;
  /** For a markdown fallback when the card cannot be finished. */
  sessionWebhook?: { url: string; expiresAt: number };
}

/** One streaming AI card. */
export interface CardStream {
  /** The card instance id (`outTrackId`). */
  readonly outTrackId: string;
  /** Adds text (streamed, throttled by the streamer). */
  append(text: string): Promise<void>;
  /** Final frame + finished status. */
  finish(): Promise<void>;
  /** Marks the card failed (status `5`), with an optional message shown in it. */
  fail(err?: unknown): Promise<void>;
}

/** Options of one streaming card. */
export interface CardStreamOptions {
  /**
   * The card instance id (default random). Give one with a prefix of `cardActions` to route the
   * card's button presses (e.g. a confirm card: `confirm-todo:<msgId>`); at most 128 of `[\w.:-]`.
   */
  outTrackId?: string;
}

/** Creates and delivers streaming cards. */
export interface CardStreamer {
  start(target: CardTarget, options?: CardStreamOptions): Promise<CardStream>;
}
