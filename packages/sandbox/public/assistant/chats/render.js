// Renders one item of a bot conversation's timeline (GET /sandbox/bots/conversations/:id/timeline):
// a user's line, a bot reply (text, markdown, action card, link), an AI card (streamed text and flow
// status) or another card instance (its params and buttons). Everything from the bot is untrusted:
// text goes into text nodes; markdown goes through markdown.js, which builds nodes, never HTML.

import { renderMarkdown, safeUrl } from './markdown.js';

/** AI card flowStatus (OC/PY `AICardStatus`) -> the state the page shows. */
const FLOW = {
  1: ['processing', '处理中 processing'],
  2: ['inputting', '生成中 streaming'],
  3: ['finished', '已完成 finished'],
  4: ['executing', '执行中 executing'],
  5: ['failed', '失败 failed'],
};

/** Buttons a non-AI card shows: its `actions` param (JSON `[{id, title}]`) or confirm / cancel. */
const DEFAULT_ACTIONS = [
  { id: 'confirm', title: '确认 Confirm' },
  { id: 'cancel', title: '取消 Cancel' },
];

const VIA = {
  sessionWebhook: 'sessionWebhook',
  'oToMessages/batchSend': '机器人接口 robot API (oToMessages/batchSend)',
  'groupMessages/send': '机器人接口 robot API (groupMessages/send)',
};

export function aiCardState(card) {
  if (card.streaming?.error) return FLOW[5];
  const known = FLOW[card.flowStatus];
  if (known) return known;
  if (card.streaming?.finalized) return FLOW[3];
  return card.streaming ? FLOW[2] : FLOW[1];
}

export function cardActions(card) {
  try {
    const list = JSON.parse(card.params.actions ?? 'null');
    if (Array.isArray(list)) {
      const out = list
        .filter((a) => a && typeof a === 'object' && typeof (a.id ?? a.actionId) === 'string')
        .slice(0, 6)
        .map((a) => ({ id: String(a.id ?? a.actionId), title: String(a.title ?? a.text ?? a.id) }));
      if (out.length) return out;
    }
  } catch {
    // not JSON: the defaults
  }
  return DEFAULT_ACTIONS;
}

/**
 * `page`: the page's helpers (el, time); `ctx`: {me (who is typing), nameOf(userId), onPress(card, actionId)}.
 * Returns the element of one timeline item.
 */
export function renderItem(item, page, ctx) {
  if (item.type === 'card') return item.ai ? aiCard(item, page) : interactiveCard(item, page, ctx);
  return item.from === 'user' ? userLine(item, page, ctx) : botReply(item, page, ctx);
}

function userLine(m, { el, time }, ctx) {
  return el(
    'div',
    {
      // The one typing on the right; other members of the group on the left.
      class: m.userId === ctx.me ? 'msg user' : 'msg user other',
      'data-testid': 'bot-user-message',
      'data-msg-id': m.msgId,
      'data-user-id': m.userId,
    },
    el('div', { class: 'meta', text: `${time(m.at)} · ${ctx.nameOf(m.userId)}` }),
    el('div', { class: 'bubble', text: m.msgtype === 'text' ? m.text : `[${m.msgtype}] ${m.text}` }),
  );
}

function linkButton(el, b) {
  const url = safeUrl(String(b.url ?? ''));
  return el('a', {
    class: 'reply-button',
    'data-testid': 'bot-reply-button',
    href: url ?? undefined,
    title: url ? undefined : `${b.url} (not opened: only http(s) links)`,
    target: url ? '_blank' : undefined,
    rel: 'noopener noreferrer',
    text: b.title,
  });
}

function botReply(m, { el, time }, ctx) {
  let body;
  if (m.msgtype === 'markdown' || m.msgtype === 'actionCard') body = renderMarkdown(m.text);
  else body = el('p', { class: 'reply-text', text: m.text });
  const at = (m.atUserIds || []).map((id) => `@${ctx.nameOf(id)}`).join(' ');
  const buttons = (m.buttons || []).map((b) => linkButton(el, b));
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', {
      class: 'meta',
      text: `${time(m.at)} · 机器人 Bot · ${m.msgtype} · via ${VIA[m.via] || m.via || '?'}`,
    }),
    el(
      'div',
      {
        class: `card bot-reply${m.msgtype === 'actionCard' ? ' action-card' : ''}`,
        'data-testid': 'bot-reply',
        'data-msgtype': m.msgtype,
        'data-via': m.via,
        'data-msg-id': m.msgId,
      },
      m.title !== undefined
        ? el('div', { class: 'card-head', 'data-testid': 'bot-reply-title', text: m.title })
        : null,
      el(
        'div',
        { class: 'card-body' },
        el('div', { 'data-testid': 'bot-reply-text' }, body),
        at ? el('p', { class: 'muted small', 'data-testid': 'bot-reply-at', text: at }) : null,
        buttons.length ? el('div', { class: 'reply-buttons' }, ...buttons) : null,
      ),
    ),
  );
}

function aiCard(c, { el, time }) {
  const [state, label] = aiCardState(c);
  const open = state === 'processing' || state === 'inputting' || state === 'executing';
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', { class: 'meta', text: `${time(c.at)} · AI 卡片 AI card · ${c.outTrackId}` }),
    el(
      'div',
      {
        class: `card ai-card ${state}`,
        'data-testid': 'ai-card',
        'data-state': state,
        'data-out-track-id': c.outTrackId,
        'data-frames': c.streaming ? String(c.streaming.frames) : '0',
      },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: 'AI 回复 AI reply' }),
        el('span', { class: `badge ${state}`, 'data-testid': 'ai-card-status', text: label }),
      ),
      el(
        'div',
        { class: 'card-body' },
        c.text
          ? el('div', { 'data-testid': 'ai-card-text' }, renderMarkdown(c.text))
          : el('p', { class: 'muted', 'data-testid': 'ai-card-text', text: '…' }),
        open ? el('span', { class: 'ai-cursor', 'aria-hidden': 'true', text: '▍' }) : null,
      ),
    ),
  );
}

function interactiveCard(c, { el, time }, ctx) {
  const shown = Object.entries(c.params).filter(([k]) => k !== 'actions' && !k.startsWith('sys_'));
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', { class: 'meta', text: `${time(c.at)} · 互动卡片 Interactive card · ${c.outTrackId}` }),
    el(
      'div',
      {
        class: 'card interactive-card',
        'data-testid': 'interactive-card',
        'data-out-track-id': c.outTrackId,
      },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: c.params.title ?? '卡片 Card' }),
        el('span', { class: 'badge', title: c.templateId, text: `v${c.version}` }),
      ),
      el(
        'div',
        { class: 'card-body' },
        shown.length
          ? el(
              'dl',
              { class: 'fields' },
              shown.flatMap(([k, v]) => [
                el('dt', { text: k }),
                el('dd', { 'data-testid': `card-param-${k}`, text: v }),
              ]),
            )
          : null,
        el(
          'div',
          { class: 'card-actions' },
          cardActions(c).map((a) =>
            el('button', {
              type: 'button',
              'data-testid': `card-button-${a.id}`,
              title: `卡片回调 card callback: actionId ${a.id}`,
              onclick: () => ctx.onPress(c, a.id),
              text: a.title,
            }),
          ),
        ),
      ),
    ),
  );
}
