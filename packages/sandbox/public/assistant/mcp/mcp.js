// The MCP client view (MCP 客户端) of the sandbox page: connect to the app's MCP endpoint (`dev
// --mcp-port`) as the user picked in the top bar, list the tools, call one with JSON arguments. The MCP
// client itself (the official SDK client with an OAuth provider) runs on the sandbox server, one per
// seed user (/sandbox/mcp/sessions/:userId/*); when the server challenges (401, or 403
// insufficient_scope) the page links to the authorization URL, the browser walks our consent page and
// DingTalk's (the sandbox's) and comes back through /sandbox/mcp/callback to /?mcp=<userId>, where the
// waiting call has run again.

import { selectUser } from '../conversation/conversation.js';
import { page } from '../page/page.js';
import { renderMcpStep } from './render.js';

const { el, clear, api } = page;
const $ = (id) => document.getElementById(id);

const mcp = { session: null, tool: null, busy: false };

function sessionPath(action) {
  return `/sandbox/mcp/sessions/${encodeURIComponent(page.state.userId)}${action ? `/${action}` : ''}`;
}

function nameOf(userId) {
  const u = page.state.users.find((x) => x.userId === userId);
  return u ? `${u.name} ${u.nameEn}` : userId;
}

function scopesOf(tool) {
  const scopes = tool._meta?.['dingtalk/scopes'];
  return Array.isArray(scopes) ? scopes : [];
}

function renderTools() {
  const box = $('mcp-tools');
  clear(box);
  const tools = mcp.session?.tools || [];
  if (tools.length === 0) {
    box.append(el('p', { class: 'muted small', text: '先列出工具 List the tools first.' }));
    return;
  }
  for (const t of tools) {
    const scopes = scopesOf(t);
    box.append(
      el(
        'button',
        {
          type: 'button',
          class: `skill${mcp.tool?.name === t.name ? ' active' : ''}`,
          'data-testid': `mcp-tool-${t.name}`,
          title: t.description,
          onclick: () => openTool(t),
        },
        el('span', { class: 'skill-summary', text: t.title || t.name }),
        el('span', {
          class: 'skill-id',
          text: `${t.name}${t.annotations?.readOnlyHint ? ' · read-only' : ''}`,
        }),
        scopes.length
          ? el('span', { class: 'skill-scopes', text: `钉钉权限 DingTalk: ${scopes.join(', ')}` })
          : null,
      ),
    );
  }
}

/** A JSON skeleton of the tool's arguments: the required properties, with their defaults or empty values. */
function argumentsSkeleton(schema) {
  const out = {};
  for (const name of schema?.required || []) {
    const p = schema.properties?.[name] || {};
    if (p.default !== undefined) out[name] = p.default;
    else if (p.type === 'number' || p.type === 'integer') out[name] = 0;
    else if (p.type === 'boolean') out[name] = false;
    else if (p.type === 'array') out[name] = [];
    else out[name] = '';
  }
  return JSON.stringify(out, null, 2);
}

function openTool(tool) {
  mcp.tool = tool;
  renderTools();
  $('mcp-tool-name').textContent = tool.title ? `${tool.title} (${tool.name})` : tool.name;
  $('mcp-tool-description').textContent = tool.description || '';
  $('mcp-args').value = argumentsSkeleton(tool.inputSchema);
  $('mcp-args-error').textContent = '';
  $('mcp-call-form').hidden = false;
}

function renderSession() {
  const s = mcp.session;
  const view = $('mcp-view');
  view.dataset.status = s ? s.status : 'idle';
  $('mcp-endpoint').textContent = s?.url ? s.url : '没有 MCP 服务 No MCP endpoint: start dev with --mcp-port';
  $('mcp-as').textContent = page.state.userId ? `以 as ${nameOf(page.state.userId)}` : '';
  $('mcp-token').textContent = s?.tokenScopes?.length
    ? `令牌 token: ${s.tokenScopes.join(' ')}`
    : '未授权 no token yet';
  for (const id of ['mcp-list-tools', 'mcp-call']) $(id).disabled = mcp.busy || !s?.url;
  renderTools();
  const box = $('mcp-transcript');
  clear(box);
  const steps = s?.steps || [];
  if (steps.length === 0)
    box.append(
      el(
        'div',
        { class: 'empty', 'data-testid': 'mcp-empty' },
        el('p', { text: '列出工具，选一个，用 JSON 参数调用。' }),
        el('p', { text: 'List the tools, pick one, call it with JSON arguments.' }),
      ),
    );
  let lastChallenge = -1;
  if (s?.status === 'awaiting_consent') lastChallenge = steps.map((x) => x.step).lastIndexOf('challenge');
  steps.forEach((step, i) => {
    box.append(renderMcpStep(step, i === lastChallenge));
  });
  box.scrollTop = box.scrollHeight;
}

async function load() {
  if (!page.state.userId) return;
  mcp.session = await api('GET', sessionPath(''));
  // Back from the consent pages: the form shows the tool the transcript last called.
  const lastCall = [...mcp.session.steps].reverse().find((x) => x.step === 'call');
  const tool = lastCall && mcp.session.tools.find((t) => t.name === lastCall.tool);
  if (!mcp.tool && tool) {
    openTool(tool);
    $('mcp-args').value = JSON.stringify(lastCall.arguments, null, 2);
  }
  renderSession();
}

async function run(action, body) {
  if (mcp.busy) return;
  mcp.busy = true;
  renderSession();
  try {
    const out = await api('POST', sessionPath(action), body);
    mcp.session = { ...out, url: mcp.session?.url };
  } catch (err) {
    page.pageError(err);
    page.logFault(`MCP ${action}: ${err.message}`, false);
  } finally {
    mcp.busy = false;
    renderSession();
  }
}

function call() {
  if (!mcp.tool) return;
  let args;
  try {
    args = JSON.parse($('mcp-args').value || '{}');
    if (!args || typeof args !== 'object' || Array.isArray(args)) throw new Error('a JSON object');
  } catch (err) {
    $('mcp-args-error').textContent = `参数须为 JSON 对象 Arguments must be a JSON object: ${err.message}`;
    return;
  }
  $('mcp-args-error').textContent = '';
  return run('call', { tool: mcp.tool.name, arguments: args });
}

page.on('ready', async () => {
  $('mcp-list-tools').addEventListener('click', () => run('tools', {}));
  $('mcp-forget').addEventListener('click', () => run('forget', {}).then(load));
  $('mcp-call-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    call();
  });
  // Back from the consent pages (/sandbox/mcp/callback → /?mcp=<userId>): that user's MCP view.
  const back = new URLSearchParams(location.search).get('mcp');
  if (back) {
    history.replaceState(null, '', '/');
    if (page.state.users.some((u) => u.userId === back) && back !== page.state.userId) await selectUser(back);
    document.querySelector('.chat-tab[data-view="mcp"]').click();
  }
  await load().catch(page.pageError);
});

page.on('user', () => {
  mcp.session = null;
  mcp.tool = null;
  $('mcp-call-form').hidden = true;
  load().catch(page.pageError);
});
