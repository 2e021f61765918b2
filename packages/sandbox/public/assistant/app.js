// The sandbox's assistant page: plain JavaScript, no build step, nothing from the internet.
// Talks to the sandbox's control API: /sandbox/skills, /sandbox/assistant/*, and for the fault panel
// the platform's /sandbox/users/:userId/* and the gateway's /sandbox/connections/:id/*.

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    users: [],
    skills: [], // [{clientId, appName, actions: [...]}]
    overview: null,
    userId: null,
    conversationId: null,
    conversation: null,
    activeSkill: null, // {clientId, action}
    busy: false,
  };
  const POLL_MS = 3000;

  // ---- DOM helpers (text only: nothing from the server is parsed as HTML) ---------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function time(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString('zh-CN', { hour12: false });
  }

  function show(value) {
    if (value === null || value === undefined) return '—';
    if (Array.isArray(value))
      return value.every((v) => typeof v !== 'object') ? value.join('、') : JSON.stringify(value, null, 2);
    if (typeof value === 'object') return JSON.stringify(value, null, 2);
    return String(value);
  }

  // ---- HTTP ------------------------------------------------------------------------------------------

  async function api(method, path, body) {
    // x-sandbox-client: the control API refuses state-changing requests without it or a JSON body
    // (a page on another website cannot set it without a CORS preflight, which the sandbox never grants).
    const init = { method, headers: { accept: 'application/json', 'x-sandbox-client': 'page' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (err) {
      data = { message: text || String(err) };
    }
    if (!res.ok) {
      const message = (data && (data.message || data.code)) || `HTTP ${res.status}`;
      const error = new Error(message);
      error.status = res.status;
      error.body = data;
      throw error;
    }
    return data;
  }

  // ---- state: users, skills, overview, conversation --------------------------------------------------

  function storedConversation(userId) {
    try {
      return localStorage.getItem(`dingtalk-skills.conversation.${userId}`);
    } catch (err) {
      console.warn('localStorage unavailable', err);
      return null;
    }
  }

  function storeConversation(userId, id) {
    try {
      if (id) localStorage.setItem(`dingtalk-skills.conversation.${userId}`, id);
      else localStorage.removeItem(`dingtalk-skills.conversation.${userId}`);
    } catch (err) {
      console.warn('localStorage unavailable', err);
    }
  }

  async function loadSkills() {
    const data = await api('GET', '/sandbox/skills');
    state.skills = data.skills || [];
    renderSkills();
  }

  async function loadOverview() {
    if (!state.userId) return;
    state.overview = await api(
      'GET',
      `/sandbox/assistant/overview?userId=${encodeURIComponent(state.userId)}`,
    );
    renderOverview();
  }

  async function loadConversation() {
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
  async function refreshConversation() {
    const before = state.conversation;
    const stamp = before ? `${before.updatedAt}:${before.transcript.length}:${before.status}` : '';
    const fresh = await api('GET', `/sandbox/assistant/conversations/${encodeURIComponent(before.id)}`);
    if (state.conversation !== before) return;
    state.conversation = fresh;
    if (`${fresh.updatedAt}:${fresh.transcript.length}:${fresh.status}` !== stamp) renderConversation();
  }

  function selectUser(userId, conversationId) {
    state.userId = userId;
    $('user-select').value = userId;
    for (const fn of hooks.user) fn(userId);
    state.conversationId = conversationId || storedConversation(userId);
    if (conversationId) storeConversation(userId, conversationId);
    return Promise.all([loadConversation(), loadOverview()]);
  }

  // ---- skills panel and forms ------------------------------------------------------------------------

  function allActions() {
    return state.skills.flatMap((s) =>
      s.actions.map((action) => ({
        clientId: s.clientId,
        appName: s.appName,
        legacyPlugin: s.legacyPlugin,
        action,
      })),
    );
  }

  function renderSkills() {
    const list = $('skill-list');
    clear(list);
    const actions = allActions();
    if (actions.length === 0) {
      list.append(
        el(
          'p',
          { class: 'muted', 'data-testid': 'no-skills' },
          '还没有注册技能。No skills registered yet: run ',
          el('code', { text: 'npm start' }),
          ' or POST an OpenAPI description to ',
          el('code', { text: '/sandbox/skills' }),
          '.',
        ),
      );
      return;
    }
    for (const item of actions) {
      const a = item.action;
      const scopes = a.delegatedScopes.length ? `需授权 needs: ${a.delegatedScopes.join(', ')}` : '';
      const button = el(
        'button',
        {
          type: 'button',
          class: `skill${state.activeSkill && state.activeSkill.action.operationId === a.operationId ? ' active' : ''}`,
          'data-testid': `skill-${a.operationId}`,
          title: a.description,
          onclick: () => openForm(item),
        },
        el('span', { class: 'skill-summary', text: a.summary }),
        el('span', {
          class: 'skill-id',
          text: `${a.method} · ${a.operationId}${state.skills.length > 1 ? ` · ${item.clientId}` : ''}`,
        }),
        item.legacyPlugin
          ? el('span', {
              class: 'skill-scopes',
              'data-testid': `legacy-plugin-${a.operationId}`,
              text: `AI 插件 legacy plugin ${item.legacyPlugin.pluginId} v${item.legacyPlugin.pluginVersion}`,
            })
          : null,
        scopes ? el('span', { class: 'skill-scopes', text: scopes }) : null,
      );
      list.append(button);
    }
  }

  function inputFor(p) {
    const id = `param-${p.name}`;
    const common = { id, name: p.name, 'data-testid': id };
    if (p.kind === 'boolean')
      return el('input', { ...common, type: 'checkbox', checked: p.default === true });
    if (p.kind === 'enum') {
      const select = el('select', common);
      if (!p.required || p.default === undefined)
        select.append(el('option', { value: '', text: '— 选择 choose —' }));
      for (const v of p.enum || [])
        select.append(el('option', { value: String(v), text: String(v), selected: p.default === v }));
      return select;
    }
    if (p.kind === 'number' || p.kind === 'integer')
      return el('input', {
        ...common,
        type: 'number',
        step: p.kind === 'integer' ? '1' : 'any',
        value: p.default !== undefined ? String(p.default) : undefined,
        required: p.required,
      });
    return el('input', {
      ...common,
      type: 'text',
      value: p.default !== undefined ? String(p.default) : undefined,
      required: p.required,
      placeholder: p.kind === 'array' ? '逗号分隔 comma separated' : undefined,
    });
  }

  function openForm(item) {
    state.activeSkill = item;
    renderSkills();
    const a = item.action;
    $('skill-form-title').textContent = a.summary;
    $('skill-form-description').textContent = a.description;
    const fields = $('skill-form-fields');
    clear(fields);
    if (a.params.length === 0) fields.append(el('p', { class: 'muted', text: '无需输入 No input needed.' }));
    for (const p of a.params) {
      const kind =
        p.kind === 'enum' ? 'enum' : p.kind === 'array' ? `list of ${p.items || 'string'}` : p.kind;
      fields.append(
        el(
          'div',
          { class: 'field', 'data-param': p.name },
          el(
            'label',
            { for: `param-${p.name}` },
            p.name,
            p.required ? el('span', { class: 'required', title: '必填 required', text: '*' }) : null,
          ),
          inputFor(p),
          el('span', {
            class: 'hint',
            text: [p.description, `${kind} · ${p.in}`].filter(Boolean).join(' · '),
          }),
        ),
      );
    }
    const ctx = a.contextParams.map((c) => `${c.name} (${c.property}/${c.format})`).join(', ');
    $('skill-form-context').textContent = ctx ? `助理自动填写 Filled by the assistant: ${ctx}` : '';
    $('skill-form').hidden = false;
    $('skill-form').scrollIntoView({ block: 'start' });
    const first = fields.querySelector('input, select');
    if (first) first.focus();
  }

  function closeForm() {
    state.activeSkill = null;
    $('skill-form').hidden = true;
    renderSkills();
  }

  function readForm() {
    const params = {};
    const missing = [];
    for (const p of state.activeSkill.action.params) {
      const input = $(`param-${p.name}`);
      const field = input.closest('.field');
      field.classList.remove('invalid');
      if (p.kind === 'boolean') {
        params[p.name] = input.checked;
        continue;
      }
      const value = input.value.trim();
      if (value === '') {
        if (p.required && p.default === undefined) {
          missing.push(p.name);
          field.classList.add('invalid');
        }
        continue;
      }
      params[p.name] = value; // the assistant converts to the declared type and says what is wrong
    }
    return { params, missing };
  }

  // ---- invoking --------------------------------------------------------------------------------------

  async function run(request) {
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

  function setBusy(busy) {
    for (const id of ['skill-submit', 'command-input']) $(id).disabled = busy;
    document.body.classList.toggle('busy', busy);
  }

  function pageError(err) {
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

  // ---- conversation rendering ------------------------------------------------------------------------

  function pendingInvocation(invocationId) {
    const inv = state.conversation?.invocations.find((i) => i.id === invocationId);
    return Boolean(inv && inv.status === 'awaiting_consent');
  }

  function userMessage(s) {
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

  function authCard(s) {
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

  function operationOf(step) {
    const inv = state.conversation?.invocations.find((i) => i.id === step.invocationId);
    return inv ? inv.operationId : '';
  }

  function fieldLabel(step, key) {
    const inv = state.conversation?.invocations.find((i) => i.id === step.invocationId);
    if (!inv) return key;
    const skills = state.skills.find((s) => s.clientId === inv.clientId);
    const action = skills?.actions.find((a) => a.operationId === inv.operationId);
    const prop = action?.responseSchema?.properties?.[key];
    return prop?.description ? `${prop.description} (${key})` : key;
  }

  // Epoch-millisecond fields (createdTime, dueTime, ...) read better as a date; the number stays visible.
  function showField(key, value) {
    if (typeof value === 'number' && /(Time|At)$/.test(key) && value > 946684800000 && value < 4102444800000)
      return `${new Date(value).toLocaleString('zh-CN', { hour12: false })} (${value})`;
    return show(value);
  }

  function resultCard(s) {
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

  function errorCard(s) {
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
  function replyMessage(s) {
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

  function isLegacyPlugin(clientId) {
    return Boolean(state.skills.find((x) => x.clientId === clientId)?.legacyPlugin);
  }

  function renderStep(s) {
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

  function renderConversation() {
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

  // ---- overview and fault injection ------------------------------------------------------------------

  function currentApp() {
    const o = state.overview;
    if (!o) return null;
    const clientId = state.activeSkill ? state.activeSkill.clientId : o.defaultClientId;
    return o.apps.find((a) => a.clientId === clientId) || o.apps[0] || null;
  }

  function renderOverview() {
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

  function logFault(text, ok) {
    const log = $('fault-log');
    log.prepend(
      el('li', {
        class: ok ? 'ok' : 'fail',
        text: `${new Date().toLocaleTimeString('zh-CN', { hour12: false })} ${text}`,
      }),
    );
    while (log.children.length > 12) log.lastChild.remove();
  }

  async function fault(label, fn) {
    try {
      const result = await fn();
      logFault(`${label}: ${result}`, true);
    } catch (err) {
      logFault(`${label}: ${err.message}`, false);
    }
    await loadOverview().catch(pageError);
  }

  function userPath(action) {
    return `/sandbox/users/${encodeURIComponent(state.userId)}/${action}`;
  }

  function bindFaults() {
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

  // ---- the bot chats (chats/chats.js) plug in here ---------------------------------------------------

  const hooks = { ready: [], user: [] };
  window.sandboxPage = {
    el,
    clear,
    time,
    api,
    pageError,
    logFault,
    /** `ready` (users and overview loaded), `user` (the user picker changed: who is typing). */
    on: (name, fn) => hooks[name].push(fn),
    state,
  };

  // ---- start -----------------------------------------------------------------------------------------

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
})();
