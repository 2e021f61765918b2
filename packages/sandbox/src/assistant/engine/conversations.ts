import { randomBytes, randomUUID } from 'node:crypto';
import { AssistantError, AssistantErrorCode } from '../errors.js';
import type { Conversation, InvocationSummary, TranscriptStep } from './transcript.js';

/**
 * Conversations in memory (the sandbox is a development tool): newest kept, oldest dropped past
 * `max`. A conversation belongs to one user.
 */
export class ConversationStore {
  readonly #byId = new Map<string, Conversation>();
  readonly #max: number;

  constructor(max = 500) {
    this.#max = max;
  }

  /** The conversation `id` of `userId`, or a new one when `id` is undefined. */
  open(userId: string, now: number, id?: string): Conversation {
    if (id !== undefined) {
      const existing = this.get(id);
      if (existing.userId !== userId)
        throw new AssistantError(
          AssistantErrorCode.InvalidParameter,
          `conversation ${id} belongs to ${existing.userId}, not ${userId}`,
          'conversationId',
        );
      return existing;
    }
    const conversation: Conversation = {
      id: `conv-${randomUUID()}`,
      userId,
      conversationToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      updatedAt: now,
      status: 'done',
      invocations: [],
      transcript: [],
    };
    this.#byId.set(conversation.id, conversation);
    while (this.#byId.size > this.#max) {
      const oldest = this.#byId.keys().next().value;
      if (oldest === undefined) break;
      this.#byId.delete(oldest);
    }
    return conversation;
  }

  /** @throws AssistantError `unknownConversation` */
  get(id: string): Conversation {
    const c = this.#byId.get(id);
    if (!c) throw new AssistantError(AssistantErrorCode.UnknownConversation, `no conversation ${id}`, 'id');
    return c;
  }

  /** Conversations, newest first, optionally of one user. */
  list(userId?: string): Conversation[] {
    return [...this.#byId.values()].filter((c) => userId === undefined || c.userId === userId).reverse();
  }

  append(conversation: Conversation, step: TranscriptStep): void {
    conversation.transcript.push(step);
    conversation.updatedAt = step.at;
  }

  /** Recomputes the conversation status from its invocations. */
  settle(
    conversation: Conversation,
    invocation: InvocationSummary,
    status: InvocationSummary['status'],
  ): void {
    invocation.status = status;
    conversation.status = conversation.invocations.some((i) => i.status === 'awaiting_consent')
      ? 'awaiting_consent'
      : 'done';
  }

  clear(): void {
    this.#byId.clear();
  }
}
