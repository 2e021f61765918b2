// The assistant conversation (AI 助理): loading, running a skill or a command, rendering the transcript.

import { loadOverview } from '../overview/overview.js';
import { api } from '../page/api.js';
import { $, clear, el, time } from '../page/dom.js';
import { hooks, state } from '../page/state.js';
import { authCard, errorCard, isLegacyPlugin, replyMessage, resultCard, userMessage } from './cards.js';

export function storedConversation(userId) {
  try {
    return localStorage.getItem(`dingtalk-skills.conversation.${userId}`);
  } catch (err) {
    console.warn('localStorage unavailable', err);
    return null;
  }
}

export function storeConversation(userId, id) {
  try {
    if (id) localStorage.setItem(`dingtalk-skills.conversation.${userId}`, id);
    else localStorage.removeItem(`dingtalk-skills.conversation.${userId}`);
  } catch (err) {
    console.warn('localStorage unavailable', err);
  }
}

export async function loadConversation() {
  if (!state.conversationId) {
    state.conversation = null;
    renderConversation();
    return;
  }
  try {
    state.conversation = await api(
      'GET',
      `/sandbox/assistant/conversations/${encodeURIComponent(state.conversationId)}`,
    );
  } catch (err) {
    if (err.status === 404) {
      // The sandbox restarted or forgot it: start over.
      storeConversation(state.userId, null);
      state.conversationId = null;
      state.conversation = null;
    } else throw err;
  }
  renderConversation();
}

/** Reloads the conversation; renders again only when it changed (keeps the scroll position otherwise). */
export async function refreshConversation() {
  const before = state.conversation;
  const stamp = before ? `${before.updatedAt}:${before.transcript.length}:${before.status}` : '';
  const fresh = await api('GET', `/sandbox/assistant/conversations/${encodeURIComponent(before.id)}`);
  if (state.conversation !== before) return;
  state.conversation = fresh;
  if (`${fresh.updatedAt}:${fresh.transcript.length}:${fresh.status}` !== stamp) renderConversation();
}

export function selectUser(userId, conversationId) {
  state.userId = userId;
  $('user-select').value = userId;
  for (const fn of hooks.user) fn(userId);
  state.conversationId = conversationId || storedConversation(userId);
  if (conversationId) storeConversation(userId, conversationId);
  return Promise.all([loadConversation(), loadOverview()]);
}

export async function run(request) {
  if (state.busy) return;
  state.busy = true;
  setBusy(true);
  try {
    const body = { ...request, userId: state.userId, autoConsent: $('auto-consent').checked };
    if (state.conversationId) body.conversationId = state.conversationId;
    const out = await api(
      'POST',
      request.text !== undefined ? '/sandbox/assistant/say' : '/sandbox/assistant/invoke',
      body,
    );
    state.conversationId = out.conversationId;
    storeConversation(state.userId, out.conversationId);
    await loadConversation();
    await loadOverview();
  } catch (err) {
    pageError(err);
  } finally {
    state.busy = false;
    setBusy(false);
  }
}

export function setBusy(busy) {
  for (const id of ['skill-submit', 'command-input']) $(id).disabled = busy;
  document.body.classList.toggle('busy', busy);
}

export function pageError(err) {
  const box = $('conversation');
  box.append(
    errorCard({
      code: err.body?.code || 'requestFailed',
      message: err.message,
      at: Date.now(),
    }),
  );
  box.scrollTop = box.scrollHeight;
}

export function renderStep(s) {
  switch (s.step) {
    case 'invoke':
      if (s.attempt === 1) return userMessage(s);
      return el('div', {
        class: 'note',
        'data-testid': 'rerun-note',
        text: `${time(s.at)} · 授权后重新执行 Running ${s.operationId} again after consent${s.withAuthCode ? (isLegacyPlugin(s.clientId) ? ' (with a fresh accessToken in data)' : ' (with a fresh oauthAuthCode)') : ''}`,
      });
    case 'auth_card':
      return authCard(s);
    case 'consent':
      return el(
        'div',
        { class: `note ${s.decision}`, 'data-testid': 'consent-note', 'data-decision': s.decision },
        s.decision === 'approve'
          ? `${time(s.at)} · ✔ 已同意授权 Approved${s.via === 'headless' ? ' (auto)' : ''}: ${s.scopes.join(', ')}`
          : `${time(s.at)} · ✖ 已拒绝授权 Denied (${s.error || 'access_denied'})`,
      );
    case 'result':
      return resultCard(s);
    case 'error':
      return errorCard(s);
    case 'reply':
      return replyMessage(s);
    default:
      return el('pre', { class: 'json', text: JSON.stringify(s, null, 2) });
  }
}

export function renderConversation() {
  const box = $('conversation');
  clear(box);
  const c = state.conversation;
  box.dataset.conversationId = c ? c.id : '';
  box.dataset.status = c ? c.status : 'empty';
  if (!c || c.transcript.length === 0) {
    box.append(
      el(
        'div',
        { class: 'empty', 'data-testid': 'conversation-empty' },
        el('p', { text: '选择左侧的技能，或在下方输入命令。' }),
        el('p', { text: 'Pick a skill on the left, or type a command below.' }),
        el('p', { class: 'small', text: '例 e.g. createTodo subject=买牛奶 · 我的待办 · whoami' }),
      ),
    );
    return;
  }
  for (const s of c.transcript) box.append(renderStep(s));
  box.scrollTop = box.scrollHeight;
}
