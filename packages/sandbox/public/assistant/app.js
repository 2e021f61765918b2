// The sandbox's assistant page: plain JavaScript ES modules, no build step, nothing from the internet.
// Talks to the sandbox's control API: /sandbox/skills, /sandbox/assistant/*, and for the fault panel
// the platform's /sandbox/users/:userId/* and the gateway's /sandbox/connections/:id/*.
// One folder per part of the page: page/ (DOM, HTTP, state), skills/, conversation/ (AI 助理),
// overview/ (app and grant status), faults/ (the fault panel), chats/ (机器人会话).

import {
  loadConversation,
  pageError,
  refreshConversation,
  run,
  selectUser,
  storeConversation,
} from './conversation/conversation.js';
import { bindFaults } from './faults/faults.js';
import { loadOverview } from './overview/overview.js';
import { api } from './page/api.js';
import { $, el } from './page/dom.js';
import { hooks, state } from './page/state.js';
import { closeForm, loadSkills, readForm } from './skills/skills.js';

const POLL_MS = 3000;

async function start() {
  bindFaults();
  $('skill-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!state.activeSkill) return;
    const { params, missing } = readForm();
    if (missing.length) return;
    run({
      operationId: state.activeSkill.action.operationId,
      clientId: state.activeSkill.clientId,
      params,
    });
  });
  $('skill-cancel').addEventListener('click', closeForm);
  $('command-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('command-input').value.trim();
    if (!text) return;
    $('command-input').value = '';
    run({ text });
  });
  $('user-select').addEventListener('change', () => selectUser($('user-select').value).catch(pageError));
  $('new-conversation').addEventListener('click', () => {
    storeConversation(state.userId, null);
    state.conversationId = null;
    loadConversation().catch(pageError);
  });

  const overview = await api('GET', '/sandbox/assistant/overview');
  state.users = overview.users;
  const select = $('user-select');
  for (const u of state.users)
    select.append(
      el('option', {
        value: u.userId,
        'data-testid': `user-option-${u.userId}`,
        text: `${u.name} ${u.nameEn} (${u.userId})`,
      }),
    );
  await loadSkills();

  const fromUrl = new URLSearchParams(location.search).get('conversation');
  let userId = state.users[0]?.userId;
  if (fromUrl) {
    try {
      const conv = await api('GET', `/sandbox/assistant/conversations/${encodeURIComponent(fromUrl)}`);
      userId = conv.userId;
    } catch (err) {
      console.warn('conversation from the URL is gone', err);
    }
    history.replaceState(null, '', '/');
  }
  await selectUser(userId, fromUrl || undefined);
  for (const fn of hooks.ready) await fn();
  document.body.dataset.ready = 'true';

  setInterval(() => {
    if (state.busy || document.hidden) return;
    Promise.all([
      loadOverview(),
      // Waiting for consent, or a skill may still post to its session webhook: keep the conversation fresh.
      state.conversation &&
      (state.conversation.status === 'awaiting_consent' || state.conversation.sessionWebhook)
        ? refreshConversation()
        : null,
      loadSkills(),
    ]).catch((err) => console.warn('refresh failed', err));
  }, POLL_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  start().catch((err) => {
    pageError(err);
    document.body.dataset.ready = 'error';
  });
});
