// The fault panel's grant and Stream connection groups: expire a token, revoke, remove a scope, drop a
// connection, send disconnect; every outcome goes to the panel's log.

import { pageError } from '../conversation/conversation.js';
import { currentApp, loadOverview } from '../overview/overview.js';
import { api } from '../page/api.js';
import { $, el } from '../page/dom.js';
import { state } from '../page/state.js';

export function logFault(text, ok) {
  const log = $('fault-log');
  log.prepend(
    el('li', {
      class: ok ? 'ok' : 'fail',
      text: `${new Date().toLocaleTimeString('zh-CN', { hour12: false })} ${text}`,
    }),
  );
  while (log.children.length > 12) log.lastChild.remove();
}

export async function fault(label, fn) {
  try {
    const result = await fn();
    logFault(`${label}: ${result}`, true);
  } catch (err) {
    logFault(`${label}: ${err.message}`, false);
  }
  await loadOverview().catch(pageError);
}

export function userPath(action) {
  return `/sandbox/users/${encodeURIComponent(state.userId)}/${action}`;
}

export function bindFaults() {
  $('expire-token').addEventListener('click', () =>
    fault('令牌过期 expire token', async () => {
      const app = currentApp();
      const out = await api('POST', userPath('expire-token'), {
        clientId: app.clientId,
        includeRefresh: true,
      });
      return `${out.expired} access + ${out.refreshExpired} refresh token(s) expired: the next call asks for consent`;
    }),
  );
  $('expire-access-token').addEventListener('click', () =>
    fault('仅过期访问令牌 expire access token', async () => {
      const app = currentApp();
      const out = await api('POST', userPath('expire-token'), { clientId: app.clientId });
      return `${out.expired} access token(s) expired: the app refreshes silently`;
    }),
  );
  $('revoke-grant').addEventListener('click', () =>
    fault('撤销授权 revoke', async () => {
      const app = currentApp();
      await api('POST', userPath('revoke'), { clientId: app.clientId });
      return 'grant revoked';
    }),
  );
  $('remove-scope').addEventListener('click', () =>
    fault('移除权限 remove scope', async () => {
      const app = currentApp();
      const scope = $('scope-select').value;
      if (!scope) throw new Error('no scope chosen');
      await api('POST', userPath('remove-scope'), { clientId: app.clientId, scope });
      return `${scope} removed`;
    }),
  );
  const connectionId = () => {
    const id = $('connection-select').value;
    if (!id) throw new Error('no connection');
    return id;
  };
  $('drop-connection').addEventListener('click', () =>
    fault('断开连接 drop', async () => {
      const id = connectionId();
      await api('POST', `/sandbox/connections/${encodeURIComponent(id)}/drop`, {});
      return `${id.slice(0, 8)} dropped`;
    }),
  );
  $('send-disconnect').addEventListener('click', () =>
    fault('disconnect', async () => {
      const id = connectionId();
      await api('POST', `/sandbox/connections/${encodeURIComponent(id)}/disconnect`, {});
      return `SYSTEM disconnect sent to ${id.slice(0, 8)}`;
    }),
  );
}
