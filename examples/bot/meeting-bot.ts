import { type BotContext, type BotMessage, defineBot } from '@dingtalk-skills/sdk';
import type { CalendarEvent } from '@dingtalk-skills/sdk/openapi';
import { sendConfirmCard } from './confirm-card.js';

const DAY_MS = 86_400_000;
/** Asia/Shanghai has no daylight saving: UTC+8 all year. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
/** How long a confirm card can be pressed. */
const CONFIRM_TTL_MS = 10 * 60_000;
const CONFIRM_PREFIX = 'todo-confirm:';

/**
 * To-dos waiting for their confirm card, by the card's outTrackId. In this process's memory, bounded:
 * enough for one instance (`dingtalk-skills dev`); several instances would keep them in the shared
 * state store.
 */
const pending = new Map<string, { subject: string; staffId: string; nick: string; until: number }>();

/** `[start, end)` of the Shanghai calendar day `days` after the one holding `now`. */
function shanghaiDay(now: number, days = 0): [number, number] {
  const start = Math.floor((now + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS + days * DAY_MS;
  return [start, start + DAY_MS];
}

/** `MM-DD HH:mm` in Shanghai time, from an event's start. */
function when(e: CalendarEvent): string {
  const iso = e.start.dateTime ?? e.start.date;
  if (!iso) return '';
  const t = new Date(new Date(iso).getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return e.start.dateTime ? `${t.slice(5, 10)} ${t.slice(11, 16)}` : `${t.slice(5, 10)} 全天 all day`;
}

const line = (e: CalendarEvent) =>
  `- ${when(e)} **${e.summary}**${e.location?.displayName ? ` · ${e.location.displayName}` : ''}`;

/** "我今天有什么会?": the sender's own calendar, streamed into an AI card (AI卡片). */
async function answerMeetings(message: BotMessage, ctx: BotContext): Promise<void> {
  // As the sender: without a token this throws ERR_AUTHORIZATION_REQUIRED, and the framework answers
  // with the authorization card (授权卡片), then runs this message again after consent.
  const me = await ctx.asSender();
  const now = Date.now();
  const [todayStart, todayEnd] = shanghaiDay(now);
  const [, weekEnd] = shanghaiDay(now, 7);
  const { events } = await me.calendar.listEvents('me', {
    timeMin: new Date(todayStart).toISOString(),
    timeMax: new Date(weekEnd).toISOString(),
    maxResults: 50,
  });
  const startOf = (e: CalendarEvent) => new Date(e.start.dateTime ?? e.start.date ?? 0).getTime();
  const sorted = [...events].sort((a, b) => startOf(a) - startOf(b));
  const today = sorted.filter((e) => startOf(e) < todayEnd);
  const later = sorted.filter((e) => startOf(e) >= todayEnd).slice(0, 5);

  const card = await ctx.reply.stream();
  try {
    const who = message.sender.nick ?? '你';
    if (today.length > 0) {
      await card.append(`**${who}今天有 ${today.length} 个会议 / ${today.length} meeting(s) today**\n\n`);
      for (const e of today) await card.append(`${line(e)}\n`);
    } else {
      await card.append(`**${who}今天没有会议 / No meetings today.**\n\n`);
    }
    if (later.length > 0) {
      await card.append('\n接下来 / Coming up:\n\n');
      for (const e of later) await card.append(`${line(e)}\n`);
    }
    await card.finish();
  } catch (err) {
    await card.fail(err);
    throw err;
  }
}

/** "待办 写周报": a confirm card first; the to-do is created as the sender when they press 确认. */
async function proposeTodo(message: BotMessage, ctx: BotContext, subject: string): Promise<void> {
  // Make sure the sender has authorized before showing a button that needs it.
  await ctx.asSender();
  const staffId = message.sender.staffId;
  if (!staffId) return;
  const outTrackId = `${CONFIRM_PREFIX}${message.msgId}`.slice(0, 128);
  const nick = message.sender.nick ?? staffId;
  const now = Date.now();
  for (const [id, p] of pending) if (p.until <= now) pending.delete(id);
  if (pending.size >= 1000) pending.delete(pending.keys().next().value as string);
  pending.set(outTrackId, { subject, staffId, nick, until: now + CONFIRM_TTL_MS });
  await sendConfirmCard(message, ctx, {
    outTrackId,
    title: '创建待办 Create a to-do',
    text: `以 ${nick} 的身份创建待办「${subject}」？ / Create the to-do “${subject}” as ${nick}?`,
  });
}

const TODO = /^(?:待办|提醒我|todo)[\s:：]*(.+)$/i;
const MEETINGS = /会|日程|meeting|calendar/i;

/** The example bot: meetings from the sender's calendar, to-dos created as the sender after a confirm card. */
export const meetingBot = defineBot({
  scopes: ['Calendar.Event.Read', 'Todo.PersonalTodo.Write'],
  onMessage: async (message, ctx) => {
    const text = message.text.trim();
    const todo = TODO.exec(text)?.[1]?.trim();
    if (todo) return proposeTodo(message, ctx, todo.slice(0, 200));
    if (MEETINGS.test(text)) return answerMeetings(message, ctx);
    await ctx.reply.text(
      '你可以问我「我今天有什么会?」，或者说「待办 写周报」。\nAsk me "我今天有什么会?" or say "待办 写周报" (to-do).',
    );
  },
  cardActions: {
    [CONFIRM_PREFIX]: async (action, ctx) => {
      const p = pending.get(action.outTrackId);
      if (!p || p.until <= Date.now())
        return { cardData: { status: 'expired', text: '这个确认已失效 / This confirmation has expired.' } };
      // Only the person who asked may confirm: the presser is the platform's userId, never card params.
      if (action.userId !== p.staffId)
        return { privateData: { text: `只有 ${p.nick} 可以确认 / Only ${p.nick} can confirm this.` } };
      pending.delete(action.outTrackId);
      if (action.actionIds[0] === 'cancel')
        return { cardData: { status: 'cancelled', text: `已取消 / Cancelled: ${p.subject}` } };
      try {
        const me = await ctx.asPresser();
        const created = await me.todo.create({ subject: p.subject });
        ctx.logger.info({ taskId: created.taskId }, 'to-do created as the sender');
        return {
          cardData: {
            status: 'done',
            text: `✅ 已为 ${p.nick} 创建待办「${p.subject}」/ To-do created (${created.taskId})`,
          },
        };
      } catch (err) {
        ctx.logger.warn({ err }, 'could not create the to-do');
        return {
          cardData: {
            status: 'failed',
            text: '未能创建待办，请重新发送消息。/ Could not create the to-do: send the message again.',
          },
        };
      }
    },
  },
});
