// The MCP client view's transcript: what the MCP client sent and what the server answered, the 401/403
// challenges with their WWW-Authenticate header, the authorization link, tools and results.

import { el, show, time } from '../page/dom.js';

function meta(s, who) {
  return el('div', { class: 'meta', text: `${time(s.at)} · ${who}` });
}

function card(s, kind, head, badge, body, attrs) {
  return el(
    'div',
    { class: 'msg assistant' },
    meta(s, 'MCP 服务 server'),
    el(
      'div',
      { class: `card ${kind}`, 'data-testid': 'mcp-step', 'data-step': s.step, ...attrs },
      el(
        'div',
        { class: 'card-head' },
        el('span', { text: head }),
        badge ? el('span', { class: 'badge', text: badge }) : null,
      ),
      el('div', { class: 'card-body' }, body),
    ),
  );
}

function note(s, text, attrs) {
  return el('div', { class: 'note', 'data-testid': 'mcp-step', 'data-step': s.step, ...attrs }, text);
}

function resultBody(s) {
  const sc = s.structuredContent;
  if (sc && typeof sc === 'object' && !Array.isArray(sc)) {
    const entries = Object.entries(sc);
    return el(
      'dl',
      { class: 'fields' },
      entries.flatMap(([k, v]) => [
        el('dt', { text: k }),
        el('dd', { 'data-testid': `mcp-result-field-${k}`, 'data-field': k, text: show(v) }),
      ]),
    );
  }
  return el('pre', { class: 'json', 'data-testid': 'mcp-result-text', text: s.text });
}

/** One transcript line; `live`: this challenge is the one the session still waits on. */
export function renderMcpStep(s, live) {
  switch (s.step) {
    case 'connect':
      return note(s, `${time(s.at)} · → ${s.operation} ${s.url}`);
    case 'refused': {
      const insufficient = /insufficient_scope/.test(s.wwwAuthenticate);
      return card(
        s,
        'error-card mcp-refused',
        s.status === 403
          ? `⛔ 权限不足 Insufficient scope${insufficient ? ' (insufficient_scope)' : ''}`
          : '🔒 需要登录 Unauthorized',
        `HTTP ${s.status}`,
        [
          el('p', {
            class: 'muted small',
            text:
              s.status === 403
                ? '客户端将重新授权以获得新增的权限 (step-up) The client re-authorizes for the added scopes.'
                : '客户端将登录授权 The client signs in (OAuth).',
          }),
          el('pre', {
            class: 'json',
            'data-testid': 'mcp-www-authenticate',
            text: `WWW-Authenticate: ${s.wwwAuthenticate}`,
          }),
        ],
        { 'data-status': String(s.status) },
      );
    }
    case 'challenge':
      return card(
        s,
        'auth-card',
        '授权 Authorization required',
        'OAuth 2.1 + PKCE',
        [
          el('p', {
            text: '在浏览器中依次确认：本应用的授权页，然后钉钉登录授权页。Confirm in the browser: our consent page, then DingTalk’s.',
          }),
          el(
            'ul',
            { class: 'scopes', 'data-testid': 'mcp-challenge-scopes' },
            s.scopes.map((code) => el('li', { 'data-scope': code }, el('code', { text: code }))),
          ),
          el(
            'div',
            { class: 'card-actions' },
            live
              ? el('a', {
                  class: 'button primary',
                  href: s.authorizationUrl,
                  'data-testid': 'mcp-authorize',
                  text: '授权 Authorize',
                })
              : el('span', { class: 'badge', text: '已处理 Handled' }),
          ),
        ],
        { 'data-state': live ? 'pending' : 'closed' },
      );
    case 'authorized':
      return note(
        s,
        `${time(s.at)} · ✔ 已授权，取得令牌 Authorized, token for: ${s.scopes.join(', ') || '—'}`,
        { class: 'note approve' },
      );
    case 'denied':
      return note(s, `${time(s.at)} · ✖ 已拒绝授权 Denied (${s.error})`, { class: 'note deny' });
    case 'tools':
      return note(s, `${time(s.at)} · ← tools/list: ${s.names.join(', ')}`);
    case 'call':
      return el(
        'div',
        { class: 'msg user', 'data-testid': 'mcp-step', 'data-step': 'call' },
        meta(s, 'MCP 客户端 client · tools/call'),
        el('div', { class: 'bubble', text: `${s.tool} ${JSON.stringify(s.arguments)}` }),
      );
    case 'result':
      return card(
        s,
        s.isError ? 'error-card' : 'result-card',
        `${s.isError ? '⚠ isError' : '✔ 结果 Result'} · ${s.tool}`,
        'tools/call',
        resultBody(s),
        { 'data-testid': 'mcp-result', 'data-is-error': String(s.isError) },
      );
    case 'error':
      return card(s, 'error-card', '⚠ 出错了 Error', null, el('p', { text: s.message }));
    default:
      return el('pre', { class: 'json', text: JSON.stringify(s, null, 2) });
  }
}
