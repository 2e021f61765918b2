// The assistant conversation's messages and cards: the user's request, the authorization card, the
// result, an error, a skill's reply.

import { el, show, time } from '../page/dom.js';
import { state } from '../page/state.js';

export function pendingInvocation(invocationId) {
  const inv = state.conversation?.invocations.find((i) => i.id === invocationId);
  return Boolean(inv && inv.status === 'awaiting_consent');
}

export function userMessage(s) {
  const params = Object.entries(s.params || {})
    .map(([k, v]) => `${k}=${show(v)}`)
    .join('  ');
  const text = s.text !== undefined ? s.text : `${s.operationId}${params ? `  ${params}` : ''}`;
  return el(
    'div',
    { class: 'msg user', 'data-testid': 'user-message' },
    el('div', { class: 'meta', text: `${time(s.at)} · ${s.summary} · ${s.appName}` }),
    el('div', { class: 'bubble', text }),
  );
}

export function authCard(s) {
  const pending = pendingInvocation(s.invocationId);
  const scopes = s.missingScopes.length
    ? s.missingScopes
    : s.requestedScopes.filter((c) => c !== 'openid').map((code) => ({ code, zh: code, en: '' }));
  const trigger = s.trigger === 'platform' ? '平台触发 platform-triggered' : '技能触发 skill-triggered';
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', { class: 'meta', text: `${time(s.at)} · 助理 Assistant` }),
    el(
      'div',
      { class: 'card auth-card', 'data-testid': 'auth-card', 'data-state': pending ? 'pending' : 'closed' },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: '授权卡片 Authorization required' }),
        el('span', { class: 'badge', 'data-testid': 'auth-card-trigger', title: s.code, text: trigger }),
      ),
      el(
        'div',
        { class: 'card-body' },
        el(
          'div',
          { class: 'app-line' },
          el('div', { class: 'app-icon', text: (s.appName || '?').slice(0, 1) }),
          el(
            'div',
            {},
            el('strong', { 'data-testid': 'auth-card-app', text: s.appName }),
            el('div', { class: 'muted small', text: s.clientId }),
          ),
        ),
        el('p', { 'data-testid': 'auth-card-message', text: s.message }),
        el('p', {
          class: 'muted small',
          text: s.missingScopes.length ? '需要的权限 Permissions needed:' : '重新授权 Authorize again:',
        }),
        el(
          'ul',
          { class: 'scopes', 'data-testid': 'auth-card-scopes' },
          scopes.map((sc) =>
            el(
              'li',
              { 'data-scope': sc.code },
              // Without a description (a re-authorization card lists granted codes) the code alone.
              sc.zh !== sc.code ? el('span', { text: sc.zh }) : null,
              sc.en ? el('span', { class: 'small', text: sc.en }) : null,
              el('code', { text: sc.code }),
            ),
          ),
        ),
        el('p', {
          class: 'muted small',
          text: `${s.code}${s.status ? ` · HTTP ${s.status}` : ''}${s.requestId ? ` · requestId ${s.requestId}` : ''}`,
        }),
        el(
          'div',
          { class: 'card-actions' },
          pending
            ? el('a', {
                class: 'button primary',
                href: s.consentUrl,
                'data-testid': 'auth-card-authorize',
                text: '授权 Authorize',
              })
            : el('span', { class: 'badge', 'data-testid': 'auth-card-closed', text: '已处理 Handled' }),
        ),
      ),
    ),
  );
}

export function operationOf(step) {
  const inv = state.conversation?.invocations.find((i) => i.id === step.invocationId);
  return inv ? inv.operationId : '';
}

export function fieldLabel(step, key) {
  const inv = state.conversation?.invocations.find((i) => i.id === step.invocationId);
  if (!inv) return key;
  const skills = state.skills.find((s) => s.clientId === inv.clientId);
  const action = skills?.actions.find((a) => a.operationId === inv.operationId);
  const prop = action?.responseSchema?.properties?.[key];
  return prop?.description ? `${prop.description} (${key})` : key;
}

// Epoch-millisecond fields (createdTime, dueTime, ...) read better as a date; the number stays visible.
export function showField(key, value) {
  if (typeof value === 'number' && /(Time|At)$/.test(key) && value > 946684800000 && value < 4102444800000)
    return `${new Date(value).toLocaleString('zh-CN', { hour12: false })} (${value})`;
  return show(value);
}

export function resultCard(s) {
  const body = s.body;
  let content;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const entries = Object.entries(body);
    content = entries.length
      ? el(
          'dl',
          { class: 'fields' },
          entries.flatMap(([k, v]) => [
            el('dt', { text: fieldLabel(s, k) }),
            el('dd', { 'data-testid': `result-field-${k}`, 'data-field': k, text: showField(k, v) }),
          ]),
        )
      : el('p', { class: 'muted', text: '（空结果 empty result）' });
  } else content = el('p', { 'data-testid': 'result-text', text: show(body) });
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', { class: 'meta', text: `${time(s.at)} · 助理 Assistant` }),
    el(
      'div',
      { class: 'card result-card', 'data-testid': 'result-card' },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: `✔ 结果 Result · ${operationOf(s)}` }),
        el('span', { class: 'badge', text: `HTTP ${s.status}` }),
      ),
      el('div', { class: 'card-body' }, content),
    ),
  );
}

export function errorCard(s) {
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', { class: 'meta', text: `${time(s.at)} · 助理 Assistant` }),
    el(
      'div',
      { class: 'card error-card', 'data-testid': 'error-card', 'data-code': s.code },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: '⚠ 出错了 Error' }),
        el('span', { class: 'badge', text: s.code }),
      ),
      el(
        'div',
        { class: 'card-body' },
        s.text !== undefined ? el('p', { class: 'muted small', text: `“${s.text}”` }) : null,
        el('p', { 'data-testid': 'error-message', text: s.message }),
        s.body !== undefined ? el('pre', { class: 'json', text: JSON.stringify(s.body, null, 2) }) : null,
      ),
    ),
  );
}

// A reply the skill posted to its session webhook (text, markdown, actionCard, link). Markdown is
// shown as its source text: the page renders no HTML from a skill.
export function replyMessage(s) {
  const buttons = (s.buttons || []).map((b) =>
    el('a', {
      class: 'reply-button',
      href: /^https?:\/\//.test(b.url) ? b.url : '#',
      target: '_blank',
      rel: 'noopener noreferrer',
      text: b.title,
    }),
  );
  return el(
    'div',
    { class: 'msg assistant' },
    el('div', {
      class: 'meta',
      text: `${time(s.at)} · ${operationOf(s)} 回复 reply (sessionWebhook, ${s.msgtype})`,
    }),
    el(
      'div',
      { class: 'card reply-card', 'data-testid': 'reply-card', 'data-msgtype': s.msgtype },
      s.title !== undefined
        ? el('div', { class: 'card-head', 'data-testid': 'reply-title', text: s.title })
        : null,
      el(
        'div',
        { class: 'card-body' },
        el('p', { class: 'reply-text', 'data-testid': 'reply-text', text: s.text }),
        buttons.length ? el('div', { class: 'reply-buttons' }, ...buttons) : null,
      ),
    ),
  );
}

export function isLegacyPlugin(clientId) {
  return Boolean(state.skills.find((x) => x.clientId === clientId)?.legacyPlugin);
}
