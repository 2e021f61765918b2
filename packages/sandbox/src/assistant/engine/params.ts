import type { ParamKind, SkillAction, SkillParam } from '../openapi-document/types.js';

/** The user's input checked against an action's parameters. */
export type ParamsCheck = { ok: true; values: Record<string, unknown> } | { ok: false; problems: string[] };

const TRUE = new Set(['true', '1', 'yes', 'on', '是']);
const FALSE = new Set(['false', '0', 'no', 'off', '否']);

/** Parameters the user supplies (not filled by the assistant through `x-dingtalk-context`). */
export function userParams(action: SkillAction): SkillParam[] {
  return action.params.filter((p) => p.context === undefined);
}

function coerceScalar(
  kind: ParamKind,
  value: unknown,
  param: SkillParam,
): { value: unknown } | { error: string } {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (kind) {
    case 'integer':
    case 'number': {
      const n =
        typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : Number.NaN;
      if (!Number.isFinite(n)) return { error: `expected a number, got ${JSON.stringify(value)}` };
      if (kind === 'integer' && !Number.isInteger(n))
        return { error: `expected an integer, got ${JSON.stringify(value)}` };
      return { value: n };
    }
    case 'boolean': {
      if (typeof text === 'boolean') return { value: text };
      const s = String(text).toLowerCase();
      if (TRUE.has(s)) return { value: true };
      if (FALSE.has(s)) return { value: false };
      return { error: `expected true or false, got ${JSON.stringify(value)}` };
    }
    case 'enum': {
      const options = param.enum ?? [];
      const hit = options.find((o) => String(o) === String(text));
      if (hit === undefined)
        return {
          error: `expected one of ${options.map((o) => String(o)).join(', ')}, got ${JSON.stringify(value)}`,
        };
      return { value: hit };
    }
    default:
      if (typeof text === 'object' && text !== null) return { error: 'expected text, got an object' };
      return { value: String(text) };
  }
}

function coerce(param: SkillParam, value: unknown): { value: unknown } | { error: string } {
  if (param.kind !== 'array') return coerceScalar(param.kind, value, param);
  const list = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value
          .split(/[,，]/)
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : [value];
  const out: unknown[] = [];
  for (const item of list) {
    const r = coerceScalar(param.items ?? 'string', item, param);
    if ('error' in r) return r;
    out.push(r.value);
  }
  return { value: out };
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * Checks and converts the user's input to the action's parameter types: strings from a form or a
 * command become numbers, booleans, enum values or lists. Missing required parameters (without a
 * default) and unknown names are reported; names of context parameters are ignored (the assistant
 * fills those itself).
 */
export function checkParams(action: SkillAction, input: Record<string, unknown>): ParamsCheck {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const params = userParams(action);
  const contextNames = new Set(action.params.filter((p) => p.context).map((p) => p.name));
  for (const name of Object.keys(input))
    if (!params.some((p) => p.name === name) && !contextNames.has(name))
      problems.push(
        `unknown parameter "${name}" (${action.operationId} takes: ${params.map((p) => p.name).join(', ') || 'nothing'})`,
      );
  for (const param of params) {
    const raw = Object.hasOwn(input, param.name) ? input[param.name] : undefined;
    if (isEmpty(raw)) {
      if (param.required && param.default === undefined)
        problems.push(
          `missing required parameter "${param.name}"${param.description ? ` (${param.description})` : ''}`,
        );
      continue;
    }
    const r = coerce(param, raw);
    if ('error' in r) problems.push(`parameter "${param.name}": ${r.error}`);
    else values[param.name] = r.value;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}
