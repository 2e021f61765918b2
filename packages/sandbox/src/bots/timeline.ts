import { DEFAULT_AI_CARD_TEMPLATE_ID } from '@dingtalk-skills/sdk';
import type { CardRegistry, SandboxCard } from '../cards/card-registry.js';
import type { BotConversation, ChatEntry } from './chats.js';

/** A line of a bot conversation in its timeline. */
export interface TimelineMessage extends ChatEntry {
  type: 'message';
}

/** A card instance delivered into the conversation (an AI card streams; others show params and buttons). */
export interface TimelineCard {
  type: 'card';
  /** When the card was delivered into this conversation (sandbox clock ms). */
  at: number;
  outTrackId: string;
  templateId: string;
  /** An AI card (AI卡片): streamed text and a flow status (`1` processing … `3` finished, `5` failed). */
  ai: boolean;
  flowStatus: string | null;
  /** The streamed key's text (AI cards). */
  text: string;
  params: Record<string, string>;
  streaming: SandboxCard['streaming'];
  version: number;
  updatedAt: number;
}

export type TimelineItem = TimelineMessage | TimelineCard;

/** A conversation as the page renders it: its lines and the cards delivered into it, in order. */
export interface BotTimeline {
  id: string;
  clientId: string;
  kind: 'single' | 'group';
  title?: string;
  members: string[];
  /** The last message a user sent (what "redeliver" pushes again). */
  lastUserMsgId: string | null;
  /** Changes whenever anything shown changes (a page skips a render when it is the same). */
  stamp: string;
  items: TimelineItem[];
}

/** Most cards shown per conversation (newest kept). */
export const MAX_TIMELINE_CARDS = 200;

function isAiCard(card: SandboxCard): boolean {
  return (
    card.templateId === DEFAULT_AI_CARD_TEMPLATE_ID ||
    card.streaming !== null ||
    card.params.flowStatus !== undefined
  );
}

/**
 * The cards of a conversation: delivered to `IM_GROUP.<conversationId>` for the group, to
 * `IM_ROBOT.<userId>` (the bot's single chat with that user) for a single chat; the app's own only.
 */
export function cardsOf(conv: BotConversation, cards: CardRegistry): TimelineCard[] {
  const spaceType = conv.kind === 'group' ? 'IM_GROUP' : 'IM_ROBOT';
  const spaceId = conv.kind === 'group' ? conv.id : (conv.members[0] ?? '');
  const out: TimelineCard[] = [];
  for (const card of cards.list({ clientId: conv.clientId, spaceId, limit: MAX_TIMELINE_CARDS })) {
    const space = card.spaces.find((s) => s.spaceType === spaceType && s.id === spaceId);
    if (!space) continue;
    const key = card.streaming?.key ?? 'msgContent';
    out.push({
      type: 'card',
      at: space.deliveredAt,
      outTrackId: card.outTrackId,
      templateId: card.templateId,
      ai: isAiCard(card),
      flowStatus: card.params.flowStatus ?? null,
      text: card.params[key] ?? '',
      params: { ...card.params },
      streaming: card.streaming ? { ...card.streaming } : null,
      version: card.version,
      updatedAt: card.updatedAt,
    });
  }
  return out;
}

/** Lines and cards merged by time (a user's line before a card delivered in the same millisecond). */
export function timelineOf(conv: BotConversation, cards: CardRegistry): BotTimeline {
  const messages: TimelineMessage[] = conv.entries.map((e) => ({ type: 'message', ...e }));
  const delivered = cardsOf(conv, cards);
  const rank = (i: TimelineItem) => (i.type === 'message' ? (i.from === 'user' ? 0 : 2) : 1);
  const items: TimelineItem[] = [...messages, ...delivered].sort(
    (a, b) =>
      a.at - b.at || rank(a) - rank(b) || (a.type === 'message' && b.type === 'message' ? a.seq - b.seq : 0),
  );
  const lastUser = [...conv.entries].reverse().find((e) => e.from === 'user');
  const lastSeq = conv.entries.at(-1)?.seq ?? 0;
  const stamp = `${lastSeq}|${delivered.map((c) => `${c.outTrackId}:${c.version}`).join(',')}`;
  return {
    id: conv.id,
    clientId: conv.clientId,
    kind: conv.kind,
    ...(conv.title !== undefined ? { title: conv.title } : {}),
    members: [...conv.members],
    lastUserMsgId: lastUser?.msgId ?? null,
    stamp,
    items,
  };
}

/** A string map from a card callback's answer (`response.cardData.cardParamMap`), or undefined. */
export function cardUpdateOf(
  response: unknown,
): { params: Record<string, string>; byKey: boolean } | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const r = response as {
    cardData?: { cardParamMap?: unknown };
    cardUpdateOptions?: { updateCardDataByKey?: unknown };
  };
  const map = r.cardData?.cardParamMap;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(map).slice(0, 200))
    params[k.slice(0, 128)] = typeof v === 'string' ? v.slice(0, 100_000) : JSON.stringify(v);
  // As the update API: merged by key only when `updateCardDataByKey` is true, replaced otherwise.
  return { params, byKey: r.cardUpdateOptions?.updateCardDataByKey === true };
}
