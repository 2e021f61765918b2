// The skills panel (技能): the list of registered skills and the form that runs one.

import { api } from '../page/api.js';
import { $, clear, el } from '../page/dom.js';
import { state } from '../page/state.js';

export async function loadSkills() {
  const data = await api('GET', '/sandbox/skills');
  state.skills = data.skills || [];
  renderSkills();
}

export function allActions() {
  return state.skills.flatMap((s) =>
    s.actions.map((action) => ({
      clientId: s.clientId,
      appName: s.appName,
      legacyPlugin: s.legacyPlugin,
      action,
    })),
  );
}

export function renderSkills() {
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

export function inputFor(p) {
  const id = `param-${p.name}`;
  const common = { id, name: p.name, 'data-testid': id };
  if (p.kind === 'boolean') return el('input', { ...common, type: 'checkbox', checked: p.default === true });
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

export function openForm(item) {
  state.activeSkill = item;
  renderSkills();
  const a = item.action;
  $('skill-form-title').textContent = a.summary;
  $('skill-form-description').textContent = a.description;
  const fields = $('skill-form-fields');
  clear(fields);
  if (a.params.length === 0) fields.append(el('p', { class: 'muted', text: '无需输入 No input needed.' }));
  for (const p of a.params) {
    const kind = p.kind === 'enum' ? 'enum' : p.kind === 'array' ? `list of ${p.items || 'string'}` : p.kind;
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

export function closeForm() {
  state.activeSkill = null;
  $('skill-form').hidden = true;
  renderSkills();
}

export function readForm() {
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
