// The bot chats (机器人会话) of the sandbox page: the single chat with the bot and the seeded group.
// The user picked in the top bar is who is typing. Sending pushes the bot message frame over Stream
// (POST /sandbox/bots/messages); the conversation (GET /sandbox/bots/conversations/:id/timeline) is
// polled while a chat is open, so replies and AI cards streaming into it render live.

import { page } from '../page/page.js';
import { bindBotFaults, refreshCardMeter } from './faults.js';
import { renderItem } from './render.js';

const { el, clear, api } = page;
const $ = (id) => document.getElementById(id);
/** How often an open chat is read (AI card text grows between two reads). */
const POLL_MS = 400;

const chat = {
  view: 'assistant', // 'assistant' | 'single' | 'group' | 'mcp' (mcp/mcp.js)
  clientId: null,
  chats: [], // timelines: [single, group]
  stamp: '',
  sending: false,
  loading: null,
  again: false,
};

function isBotChat(view) {
  return view === 'single' || view === 'group';
}

function nameOf(userId) {
  const u = page.state.users.find((x) => x.userId === userId);
  return u ? u.name : userId;
}

function current() {
  return chat.chats.find((c) => c.kind === chat.view) || null;
}

function groupLabel(group) {
  const names = group ? group.members.map(nameOf).join(' + ') : '';
  return names ? `群聊 Group (${names})` : '群聊 Group';
}

function renderTabs() {
  const group = chat.chats.find((c) => c.kind === 'group');
  document.querySelector('.chat-tab[data-view="group"]').textContent = groupLabel(group);
  for (const tab of document.querySelectorAll('.chat-tab')) {
    const active = tab.dataset.view === chat.view;
    tab.classList.toggle('active', active);
    tab.setAttribute('aria-selected', String(active));
  }
  const conv = current();
  $('bot-chat-title').textContent = conv
    ? conv.kind === 'group'
      ? `${conv.title || groupLabel(conv)} · ${conv.members.map(nameOf).join('、')}`
      : `${nameOf(conv.members[0])} ↔ 机器人 bot (${chat.clientId})`
    : '';
  const me = page.state.userId;
  $('bot-typing-as').textContent = me ? `${nameOf(me)} 说 says:` : '';
  $('bot-fault-target').textContent = conv ? conv.id : '';
}

function renderConversation(force) {
  const conv = current();
  const box = $('bot-conversation');
  if (!conv) return;
  if (!force && conv.stamp === chat.stamp && box.dataset.conversationId === conv.id) return;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  chat.stamp = conv.stamp;
  box.dataset.conversationId = conv.id;
  box.dataset.stamp = conv.stamp;
  clear(box);
  if (conv.items.length === 0)
    box.append(
      el(
        'div',
        { class: 'empty', 'data-testid': 'bot-conversation-empty' },
        el('p', { text: '还没有消息。在下方给机器人发消息。' }),
        el('p', { text: 'No messages yet: type below to message the bot.' }),
      ),
    );
  const ctx = { me: page.state.userId, nameOf, onPress: pressButton };
  for (const item of conv.items) box.append(renderItem(item, page, ctx));
  if (atBottom || force) box.scrollTop = box.scrollHeight;
}

/** Reads both chats of the user who is typing; renders what changed. */
async function load(force) {
  const userId = page.state.userId;
  if (!userId || !chat.clientId) return;
  const data = await api(
    'GET',
    `/sandbox/bots/chats?userId=${encodeURIComponent(userId)}&clientId=${encodeURIComponent(chat.clientId)}`,
  );
  if (userId !== page.state.userId) return; // the user changed meanwhile
  chat.chats = data.chats;
  renderTabs();
  if (isBotChat(chat.view)) renderConversation(force);
}

function refresh(force) {
  // One read at a time; a forced refresh during a read runs once more right after it.
  if (chat.loading) {
    if (force) chat.again = true;
    return chat.loading;
  }
  chat.loading = (async () => {
    try {
      await load(force);
      while (chat.again) {
        chat.again = false;
        await load(true);
      }
    } finally {
      chat.loading = null;
    }
  })();
  return chat.loading;
}

function show(view) {
  chat.view = view;
  const bot = isBotChat(view);
  $('bot-chat').hidden = !bot;
  $('conversation').hidden = view !== 'assistant';
  $('command-form').hidden = view !== 'assistant';
  $('mcp-view').hidden = view !== 'mcp';
  document.body.dataset.chatView = view;
  for (const id of ['expire-webhook', 'redeliver-last']) $(id).disabled = !bot;
  renderTabs();
  if (bot) {
    chat.stamp = '';
    refresh(true).catch(page.pageError);
    $('bot-input').focus();
  }
}

function note(text) {
  const box = $('bot-note');
  box.hidden = !text;
  box.textContent = text || '';
}

async function send(text) {
  const conv = current();
  if (!conv || chat.sending) return;
  chat.sending = true;
  $('bot-input').disabled = true;
  note('');
  try {
    const out = await api('POST', '/sandbox/bots/messages', {
      clientId: chat.clientId,
      conversation: conv.kind,
      from: page.state.userId,
      text,
    });
    const d = out.delivery;
    if (d.status !== 'answered')
      note(
        `未送达 Not delivered: ${d.status}${d.code ? ` (${d.code})` : ''}${d.message ? ` · ${d.message}` : ''} — 应用连上了吗? Is the app connected?`,
      );
    else if (d.ackCode !== 200) note(`应用的应答 The app answered code ${d.ackCode}`);
    await refresh(true);
  } catch (err) {
    note(`发送失败 Send failed: ${err.message}`);
  } finally {
    chat.sending = false;
    $('bot-input').disabled = false;
    $('bot-input').focus();
  }
}

/** A button on a card the bot sent: the card callback (`/v1.0/card/instances/callback`) as the user. */
async function pressButton(card, actionId) {
  try {
    const out = await api('POST', '/sandbox/bots/card-callbacks', {
      clientId: chat.clientId,
      outTrackId: card.outTrackId,
      userId: page.state.userId,
      actionId,
      conversationId: current()?.id,
    });
    const d = out.delivery;
    page.logFault(
      `卡片回调 card callback ${actionId}: ${d.status}${out.updated ? ', card updated' : ''}`,
      d.status === 'answered',
    );
  } catch (err) {
    page.logFault(`卡片回调 card callback ${actionId}: ${err.message}`, false);
  }
  await refresh(true).catch(page.pageError);
}

function renderApps() {
  const select = $('bot-app-select');
  const apps = page.state.overview?.apps || [];
  clear(select);
  for (const a of apps)
    select.append(
      el('option', {
        value: a.clientId,
        text: `${a.name} (${a.clientId})`,
        selected: a.clientId === chat.clientId,
      }),
    );
  select.hidden = apps.length < 2;
}

page.on('ready', async () => {
  chat.clientId = page.state.overview?.defaultClientId || page.state.overview?.apps[0]?.clientId || null;
  renderApps();
  for (const tab of document.querySelectorAll('.chat-tab'))
    tab.addEventListener('click', () => show(tab.dataset.view));
  $('bot-app-select').addEventListener('change', () => {
    chat.clientId = $('bot-app-select').value;
    chat.stamp = '';
    refresh(true).catch(page.pageError);
  });
  $('bot-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('bot-input').value.trim();
    if (!text) return;
    $('bot-input').value = '';
    send(text);
  });
  bindBotFaults({ page, current, refresh: () => refresh(true) });
  show('assistant');
  await Promise.all([refresh(true), refreshCardMeter(page)]);
  setInterval(() => {
    if (!isBotChat(chat.view) || document.hidden) return;
    Promise.all([refresh(false), refreshCardMeter(page)]).catch((err) =>
      console.warn('chat refresh failed', err),
    );
  }, POLL_MS);
});

page.on('user', () => {
  chat.stamp = '';
  note('');
  if (chat.clientId) refresh(true).catch(page.pageError);
});
