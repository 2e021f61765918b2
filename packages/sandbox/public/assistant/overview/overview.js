// The app's status in the top bar and the fault panel's grant and connection status
// (GET /sandbox/assistant/overview?userId=).

import { api } from '../page/api.js';
import { $, clear, el } from '../page/dom.js';
import { state } from '../page/state.js';

export async function loadOverview() {
  if (!state.userId) return;
  state.overview = await api('GET', `/sandbox/assistant/overview?userId=${encodeURIComponent(state.userId)}`);
  renderOverview();
}

export function currentApp() {
  const o = state.overview;
  if (!o) return null;
  const clientId = state.activeSkill ? state.activeSkill.clientId : o.defaultClientId;
  return o.apps.find((a) => a.clientId === clientId) || o.apps[0] || null;
}

export function renderOverview() {
  const app = currentApp();
  const status = $('app-status');
  if (!app) return;
  const live = app.connections.filter((c) => c.state === 'open');
  status.className = `app-status ${live.length ? 'online' : 'offline'}`;
  status.textContent = `${app.name} · ${live.length ? `已连接 connected (${live.length})` : '未连接 not connected'}`;
  status.title = app.clientId;
  $('fault-target').textContent = `${state.userId} × ${app.clientId}`;

  const grant = $('grant-status');
  clear(grant);
  if (!app.grant) grant.append('未授权 No grant yet');
  else {
    grant.append(el('div', { text: app.grant.active ? '有效 Active' : '已撤销 Revoked' }));
    grant.append(
      el(
        'div',
        {},
        app.grant.scopes.map((s) => el('code', { text: s })),
      ),
    );
  }
  const scopeSelect = $('scope-select');
  const previous = scopeSelect.value;
  clear(scopeSelect);
  const scopes = app.grant?.active ? app.grant.scopes : [];
  if (scopes.length === 0) scopeSelect.append(el('option', { value: '', text: '— 无 none —' }));
  for (const s of scopes) scopeSelect.append(el('option', { value: s, text: s, selected: s === previous }));
  $('remove-scope').disabled = scopes.length === 0;
  $('revoke-grant').disabled = !app.grant?.active;

  const conn = $('connection-status');
  clear(conn);
  conn.append(live.length ? `${live.length} 个连接 open connection(s)` : '没有连接 No open connection');
  const connSelect = $('connection-select');
  const prevConn = connSelect.value;
  clear(connSelect);
  for (const c of app.connections)
    connSelect.append(
      el('option', {
        value: c.id,
        text: `${c.id.slice(0, 8)} · ${c.state}${c.ua ? ` · ${c.ua}` : ''}`,
        selected: c.id === prevConn,
      }),
    );
  if (app.connections.length === 0) connSelect.append(el('option', { value: '', text: '— 无 none —' }));
  $('drop-connection').disabled = live.length === 0;
  $('send-disconnect').disabled = live.length === 0;
}
