import { z } from 'zod';
import { ProtocolError } from '../protocol/protocol-error.js';

/** `conversationType`: `"1"` a single chat (单聊) with the bot, `"2"` a group (群聊). */
export type ConversationKind = 'single' | 'group';

/** One @-mention (`atUsers[]`). */
export interface AtUser {
  dingtalkId: string;
  staffId?: string;
}

/** A rich-text part (`content.richText[]`): text, or a picture with its download code. */
export type RichTextPart =
  | { type: 'text'; text: string }
  | { type: 'picture'; downloadCode: string; pictureDownloadCode?: string };

/** What the message holds, by `msgtype`; non-text payloads come from `content`. */
export type BotMessageBody =
  | { msgtype: 'text'; text: string }
  | { msgtype: 'richText'; parts: RichTextPart[]; text: string }
  | { msgtype: 'picture'; downloadCode: string; pictureDownloadCode?: string }
  | { msgtype: 'file'; downloadCode: string; fileName?: string; fileId?: string; spaceId?: string }
  | { msgtype: 'audio'; downloadCode: string; recognition?: string }
  | { msgtype: 'video'; downloadCode: string; duration?: string; videoType?: string }
  | { msgtype: 'unknown'; original: string };

/**
 * A message to the bot (机器人), the `data` of topic `/v1.0/im/bot/messages/get`. Identity fields
 * (`sender.staffId`, `sender.id`) are the platform's; nothing here is read from the message text.
 */
export interface BotMessage {
  /** Business id, stable across redeliveries (a redelivery has a new frame `messageId`). */
  msgId: string;
  /** The Stream frame's id (changes on redelivery). */
  messageId: string;
  conversation: {
    id: string;
    kind: ConversationKind;
    /** Group name (groups only). */
    title?: string;
  };
  sender: {
    /** Encrypted sender id (`senderId`). */
    id: string;
    /** The sender's org userId (`senderStaffId`): what robot, card and user APIs expect. */
    staffId?: string;
    nick?: string;
    corpId?: string;
    isAdmin: boolean;
  };
  robotCode?: string;
  chatbotUserId?: string;
  body: BotMessageBody;
  /** Plain text of a text or rich-text message (trimmed: a group message starts with a space after the @). */
  text: string;
  atUsers: AtUser[];
  /** True when the bot was @-mentioned. */
  isInAtList: boolean;
  /** The session webhook (会话Webhook) and when it expires (ms epoch). */
  sessionWebhook?: { url: string; expiresAt: number };
  /** When the message was sent (ms epoch). */
  createdAt: number;
}

const str = z.string();
const num = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);
const wire = z.object({
  msgId: str.min(1),
  conversationId: str.min(1),
  conversationType: z.union([z.literal('1'), z.literal('2'), z.literal(1), z.literal(2)]),
  conversationTitle: str.optional(),
  senderId: str.min(1),
  senderStaffId: str.optional(),
  senderNick: str.optional(),
  senderCorpId: str.optional(),
  isAdmin: z.boolean().optional(),
  chatbotUserId: str.optional(),
  robotCode: str.optional(),
  msgtype: str.min(1),
  text: z.object({ content: str }).optional(),
  content: z.record(z.string(), z.unknown()).optional(),
  atUsers: z.array(z.object({ dingtalkId: str, staffId: str.optional() })).optional(),
  isInAtList: z.boolean().optional(),
  sessionWebhook: str.optional(),
  sessionWebhookExpiredTime: num.optional(),
  createAt: num.optional(),
});

type Wire = z.infer<typeof wire>;

function field(content: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = content?.[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function richParts(content: Record<string, unknown> | undefined): RichTextPart[] {
  const list = content?.richText;
  if (!Array.isArray(list)) return [];
  const parts: RichTextPart[] = [];
  for (const item of list.slice(0, 200)) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    if (o.type === 'picture' && typeof o.downloadCode === 'string') {
      parts.push({
        type: 'picture',
        downloadCode: o.downloadCode,
        ...(typeof o.pictureDownloadCode === 'string' ? { pictureDownloadCode: o.pictureDownloadCode } : {}),
      });
    } else if (typeof o.text === 'string') parts.push({ type: 'text', text: o.text });
  }
  return parts;
}

function bodyOf(w: Wire): BotMessageBody {
  const c = w.content;
  const code = field(c, 'downloadCode');
  const opt = (key: string, value: string | undefined) => (value === undefined ? {} : { [key]: value });
  switch (w.msgtype) {
    case 'text':
      return { msgtype: 'text', text: w.text?.content ?? '' };
    case 'richText': {
      const parts = richParts(c);
      const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
      return { msgtype: 'richText', parts, text };
    }
    case 'picture':
      if (code === undefined) break;
      return {
        msgtype: 'picture',
        downloadCode: code,
        ...opt('pictureDownloadCode', field(c, 'pictureDownloadCode')),
      };
    case 'file':
      if (code === undefined) break;
      return {
        msgtype: 'file',
        downloadCode: code,
        ...opt('fileName', field(c, 'fileName')),
        ...opt('fileId', field(c, 'fileId')),
        ...opt('spaceId', field(c, 'spaceId')),
      };
    case 'audio':
      if (code === undefined) break;
      return { msgtype: 'audio', downloadCode: code, ...opt('recognition', field(c, 'recognition')) };
    case 'video':
      if (code === undefined) break;
      return {
        msgtype: 'video',
        downloadCode: code,
        ...opt('duration', field(c, 'duration')),
        ...opt('videoType', field(c, 'videoType')),
      };
  }
  return { msgtype: 'unknown', original: w.msgtype };
}

/**
 * Reads the JSON `data` of a bot message frame. Throws {@link ProtocolError} when it is not JSON or a
 * required field (`msgId`, `conversationId`, `conversationType`, `senderId`, `msgtype`) is missing.
 */
export function decodeBotMessage(data: string, messageId: string): BotMessage {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new ProtocolError('data', 'a JSON object', data, messageId);
  }
  const parsed = wire.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new ProtocolError(
      `data${path ? `.${path}` : ''}`,
      issue?.message ?? 'a bot message',
      undefined,
      messageId,
    );
  }
  const w = parsed.data;
  const body = bodyOf(w);
  const text = body.msgtype === 'text' || body.msgtype === 'richText' ? body.text.trim() : '';
  const kind: ConversationKind = String(w.conversationType) === '2' ? 'group' : 'single';
  return {
    msgId: w.msgId,
    messageId,
    conversation: {
      id: w.conversationId,
      kind,
      ...(w.conversationTitle !== undefined ? { title: w.conversationTitle } : {}),
    },
    sender: {
      id: w.senderId,
      ...(w.senderStaffId ? { staffId: w.senderStaffId } : {}),
      ...(w.senderNick !== undefined ? { nick: w.senderNick } : {}),
      ...(w.senderCorpId !== undefined ? { corpId: w.senderCorpId } : {}),
      isAdmin: w.isAdmin === true,
    },
    ...(w.robotCode ? { robotCode: w.robotCode } : {}),
    ...(w.chatbotUserId ? { chatbotUserId: w.chatbotUserId } : {}),
    body,
    text,
    atUsers: (w.atUsers ?? []).slice(0, 100).map((a) => ({
      dingtalkId: a.dingtalkId,
      ...(a.staffId ? { staffId: a.staffId } : {}),
    })),
    isInAtList: w.isInAtList === true,
    ...(w.sessionWebhook && w.sessionWebhookExpiredTime !== undefined
      ? { sessionWebhook: { url: w.sessionWebhook, expiresAt: w.sessionWebhookExpiredTime } }
      : {}),
    createdAt: w.createAt ?? 0,
  };
}
