import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/**
 * Where an AI card (AI卡片) goes: the bot's single chat with a user (单聊, by the user's org userId,
 * the bot message's `senderStaffId`) or a group (群聊, by `openConversationId`, the bot message's
 * `conversationId`).
 */
export type AiCardTarget =
  | { kind: 'user'; userId: string }
  | { kind: 'group'; openConversationId: string; atUserIds?: Record<string, string> };

/** DingTalk's space types for the two targets. */
export const CardSpaceType = { User: 'IM_ROBOT', Group: 'IM_GROUP' } as const;

const ID = /^[\w$:.@+=/-]{1,256}$/;

/** Checks a target (ERR_INVALID_INPUT for a missing or malformed id) and returns it. */
export function checkTarget(target: AiCardTarget): AiCardTarget {
  const id =
    target?.kind === 'user'
      ? target.userId
      : target?.kind === 'group'
        ? target.openConversationId
        : undefined;
  if (typeof id !== 'string' || !ID.test(id))
    throw new DingTalkSkillsError(
      ErrorCode.InvalidInput,
      'card target must be {kind:"user", userId} or {kind:"group", openConversationId} with a non-empty id',
    );
  return target;
}

/**
 * The card's `openSpaceId`: `dtv1.card//IM_ROBOT.<userId>` for the single chat with the bot,
 * `dtv1.card//IM_GROUP.<openConversationId>` for a group (the form PY, OC and CH send).
 */
export function openSpaceIdOf(target: AiCardTarget): string {
  return target.kind === 'user'
    ? `dtv1.card//${CardSpaceType.User}.${target.userId}`
    : `dtv1.card//${CardSpaceType.Group}.${target.openConversationId}`;
}

/** A short label for logs (never message text). */
export function describeTarget(target: AiCardTarget): string {
  return target.kind === 'user' ? `user:${target.userId}` : `group:${target.openConversationId}`;
}
