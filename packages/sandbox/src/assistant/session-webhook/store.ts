import { randomBytes } from 'node:crypto';

/** The path DingTalk's session webhooks use (`https://oapi.dingtalk.com/robot/sendBySession?session=…`). */
export const SESSION_WEBHOOK_PATH = '/robot/sendBySession';

/**
 * Lifetime of a session webhook: DingTalk's samples put `sessionWebhookExpiredTime` about 90 minutes
 * after the message (`createAt` + 5 400 000 ms).
 */
export const SESSION_WEBHOOK_TTL_MS = 90 * 60 * 1000;

/** One issued session webhook: where its replies go. */
export interface SessionWebhook {
  session: string;
  url: string;
  conversationId: string;
  invocationId: string;
  clientId: string;
  userId: string;
  issuedAt: number;
  /** `sessionWebhookExpiredTime` (sandbox clock ms). */
  expiresAt: number;
}

/** Why a reply was refused. */
export type SessionLookup =
  | { ok: true; webhook: SessionWebhook }
  | { ok: false; reason: 'unknown' | 'expired' };

/**
 * Session webhooks the assistant handed to skills, one per skill call, bounded (oldest forgotten:
 * a forgotten session answers like an unknown one). Expiry reads the sandbox clock.
 */
export class SessionWebhooks {
  readonly #bySession = new Map<string, SessionWebhook>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #clock: { now(): number };
  readonly #baseUrl: () => string;

  constructor(options: { clock: { now(): number }; baseUrl: () => string; ttlMs?: number; max?: number }) {
    this.#clock = options.clock;
    this.#baseUrl = options.baseUrl;
    this.#ttlMs = options.ttlMs ?? SESSION_WEBHOOK_TTL_MS;
    this.#max = options.max ?? 2_000;
  }

  issue(
    target: Pick<SessionWebhook, 'conversationId' | 'invocationId' | 'clientId' | 'userId'>,
  ): SessionWebhook {
    const session = randomBytes(16).toString('hex');
    const issuedAt = this.#clock.now();
    const webhook: SessionWebhook = {
      ...target,
      session,
      url: `${this.#baseUrl()}${SESSION_WEBHOOK_PATH}?session=${session}`,
      issuedAt,
      expiresAt: issuedAt + this.#ttlMs,
    };
    this.#bySession.set(session, webhook);
    while (this.#bySession.size > this.#max) {
      const oldest = this.#bySession.keys().next().value;
      if (oldest === undefined) break;
      this.#bySession.delete(oldest);
    }
    return webhook;
  }

  lookup(session: string): SessionLookup {
    const webhook = this.#bySession.get(session);
    if (!webhook) return { ok: false, reason: 'unknown' };
    if (this.#clock.now() >= webhook.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, webhook };
  }

  /** Fault: every webhook of the conversation expires now. Returns how many were live. */
  expireConversation(conversationId: string): number {
    const now = this.#clock.now();
    let expired = 0;
    for (const webhook of this.#bySession.values()) {
      if (webhook.conversationId !== conversationId || webhook.expiresAt <= now) continue;
      webhook.expiresAt = now;
      expired++;
    }
    return expired;
  }

  clear(): void {
    this.#bySession.clear();
  }
}
