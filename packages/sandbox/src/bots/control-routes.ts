import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SessionWebhooks } from '../assistant/session-webhook/store.js';
import type { CardRegistry } from '../cards/card-registry.js';
import { ControlError } from '../control/errors.js';
import { parseInput } from '../control/validate.js';
import type { BotChats } from './chats.js';
import { cardUpdateOf, timelineOf } from './timeline.js';

/** `POST /sandbox/bots/messages` */
export const sendBotMessageBody = z
  .object({
    clientId: z.string().min(1).optional(),
    /** `single`: the sender's 1:1 chat with the bot; `group`: the seeded group (every seed user). */
    conversation: z.enum(['single', 'group']).default('single'),
    /** The sender's userId (staffId), e.g. `zhangsan`. */
    from: z.string().min(1),
    text: z.string().max(20_000).optional(),
    msgtype: z.enum(['text', 'richText', 'picture', 'file', 'audio', 'video']).optional(),
    content: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** `POST /sandbox/bots/card-callbacks`: a user presses a button on a card the app sent. */
export const cardCallbackBody = z
  .object({
    clientId: z.string().min(1).optional(),
    outTrackId: z.string().min(1).max(256),
    /** Who pressed (staffId), e.g. `lisi`. */
    userId: z.string().min(1),
    actionId: z.string().min(1).max(256).default('confirm'),
    params: z.record(z.string(), z.unknown()).default({}),
    /** The conversation the card is in (its space): `IM_GROUP` for a group, `IM_ROBOT` otherwise. */
    conversationId: z.string().min(1).optional(),
  })
  .strict();

/** What the control routes need. */
export interface BotControlDeps {
  chats: BotChats;
  webhooks: SessionWebhooks;
  defaultClientId: () => string;
  knownUser: (userId: string) => boolean;
  corpId: () => string;
  /** Known apps (the chat list is made only for them). */
  knownApp: (clientId: string) => boolean;
  /** The card instances: a conversation's timeline shows its cards; a button press's answer updates the card. */
  cards: CardRegistry;
}

/** `GET /sandbox/bots/chats?userId=&clientId=` */
const chatsQuery = z.object({
  userId: z.string().min(1).max(128),
  clientId: z.string().min(1).max(128).optional(),
});

/**
 * Control API of bot chats (relative to `/sandbox`):
 * - `POST /bots/messages` `{from, text, conversation?, clientId?, msgtype?, content?}`: pushes the bot
 *   message frame over Stream; answers `{msgId, conversationId, sessionWebhook, sessionWebhookExpiredTime, delivery}`.
 * - `POST /bots/messages/:msgId/redeliver`: the same message again with a new frame messageId.
 * - `GET /bots/conversations`, `GET /bots/conversations/:id/messages`: what was said and replied.
 * - `POST /bots/conversations/:id/expire-webhooks`: fault, every session webhook of it expires now.
 * - `POST /bots/card-callbacks` `{outTrackId, userId, actionId?, params?}`: a button press on a card
 *   (`/v1.0/card/instances/callback`); answers `{delivery, updated}` with the app's card update in
 *   `response`, applied to the card as DingTalk does (`updated`: whether it changed the card).
 * - `GET /bots/chats?userId=&clientId=`: the page's chat list, the user's single chat with the bot and
 *   the group (made on first use), each with its timeline.
 * - `GET /bots/conversations/:id/timeline`: lines and delivered cards in order, with a change `stamp`.
 */
export function registerBotControl(deps: BotControlDeps) {
  return (scope: FastifyInstance) => {
    scope.post('/bots/messages', async (req) => {
      const body = parseInput(sendBotMessageBody, req.body);
      if (!deps.knownUser(body.from))
        throw new ControlError(404, 'unknownUser', `no user ${body.from}`, 'from');
      if (body.msgtype === undefined || body.msgtype === 'text') {
        if (!body.text?.trim()) throw new ControlError(400, 'invalidParameter', 'text: required', 'text');
      }
      return deps.chats.send({
        clientId: body.clientId ?? deps.defaultClientId(),
        conversation: body.conversation,
        from: body.from,
        ...(body.text !== undefined ? { text: body.text } : {}),
        ...(body.msgtype !== undefined ? { msgtype: body.msgtype } : {}),
        ...(body.content !== undefined ? { content: body.content } : {}),
      });
    });

    scope.post('/bots/messages/:msgId/redeliver', async (req) => {
      const { msgId } = req.params as { msgId: string };
      const delivery = await deps.chats.redeliver(msgId);
      if (!delivery) throw new ControlError(404, 'unknownMessage', `no message ${msgId} to redeliver`);
      return { msgId, delivery };
    });

    scope.post('/bots/card-callbacks', async (req) => {
      const body = parseInput(cardCallbackBody, req.body);
      if (!deps.knownUser(body.userId))
        throw new ControlError(404, 'unknownUser', `no user ${body.userId}`, 'userId');
      const group = body.conversationId ? deps.chats.get(body.conversationId)?.kind === 'group' : false;
      const delivery = await deps.chats.pushCallback(
        body.clientId ?? deps.defaultClientId(),
        '/v1.0/card/instances/callback',
        {
          outTrackId: body.outTrackId,
          corpId: deps.corpId(),
          userId: body.userId,
          userIdType: 1,
          spaceType: group ? 'IM_GROUP' : 'IM_ROBOT',
          spaceId: group ? body.conversationId : body.userId,
          type: 'actionCallback',
          extension: '{}',
          content: JSON.stringify({ cardPrivateData: { actionIds: [body.actionId], params: body.params } }),
        },
      );
      // DingTalk applies the card update in the ack (`response.cardData`) to the card.
      let updated = false;
      const card = deps.cards.get(body.outTrackId);
      const update = delivery.status === 'answered' ? cardUpdateOf(delivery.response) : undefined;
      if (card && update && card.clientId === (body.clientId ?? deps.defaultClientId())) {
        deps.cards.update(card, update.params, update.byKey);
        updated = true;
      }
      return { delivery, updated };
    });

    scope.get('/bots/chats', async (req) => {
      const q = parseInput(chatsQuery, req.query, 'query');
      if (!deps.knownUser(q.userId))
        throw new ControlError(404, 'unknownUser', `no user ${q.userId}`, 'userId');
      const clientId = q.clientId ?? deps.defaultClientId();
      if (!deps.knownApp(clientId))
        throw new ControlError(404, 'unknownApp', `no app ${clientId}`, 'clientId');
      return {
        clientId,
        chats: [
          timelineOf(deps.chats.conversationOf(clientId, 'single', q.userId), deps.cards),
          timelineOf(deps.chats.conversationOf(clientId, 'group'), deps.cards),
        ],
      };
    });

    scope.get('/bots/conversations/:id/timeline', async (req) => {
      const { id } = req.params as { id: string };
      const conv = deps.chats.get(id);
      if (!conv) throw new ControlError(404, 'unknownConversation', `no conversation ${id}`);
      return timelineOf(conv, deps.cards);
    });

    scope.get('/bots/conversations', async () => ({
      conversations: deps.chats.list().map((c) => ({
        id: c.id,
        clientId: c.clientId,
        kind: c.kind,
        title: c.title,
        members: c.members,
        messages: c.entries.length,
      })),
    }));

    scope.get('/bots/conversations/:id/messages', async (req) => {
      const { id } = req.params as { id: string };
      const conv = deps.chats.get(id);
      if (!conv) throw new ControlError(404, 'unknownConversation', `no conversation ${id}`);
      return { id: conv.id, kind: conv.kind, messages: conv.entries };
    });

    scope.post('/bots/conversations/:id/expire-webhooks', async (req) => {
      const { id } = req.params as { id: string };
      if (!deps.chats.get(id)) throw new ControlError(404, 'unknownConversation', `no conversation ${id}`);
      return { expired: deps.webhooks.expireConversation(id) };
    });
  };
}
