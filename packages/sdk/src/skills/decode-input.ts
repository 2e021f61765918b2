import type { z } from 'zod';
import { coerceQuery } from './coerce.js';
import { type AnySkill, type ContextParam, inputInQuery } from './define-skill.js';
import { InvalidInputError } from './errors.js';
import type { SkillInvocation } from './invocation.js';
import type { FieldIssue } from './outcome.js';

/**
 * The input of one invocation, pure: query, path parameters and body assembled into the object the
 * skill's schema checks, and the context parameters the platform puts in the query. No token, no I/O.
 */

/** Context parameters: what `x-dingtalk-context` asks the platform to fill in. */
export const CONTEXT_KEYS: readonly ContextParam[] = [
  'userId',
  'unionId',
  'corpId',
  'oauthAuthCode',
  'jobNum',
];
const CONTEXT_KEY_SET: ReadonlySet<string> = new Set(CONTEXT_KEYS);

/** zod's issues as the answer's `fields`. */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    field: i.path.length ? i.path.map(String).join('.') : '(input)',
    message: i.message,
  }));
}

function firstString(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
  return undefined;
}

/**
 * A context parameter: only from the query, where the platform puts what `x-dingtalk-context` names;
 * never from the body (the model fills it) and nothing for an invocation that is not trusted.
 */
export function contextValue(inv: SkillInvocation, key: ContextParam): string | undefined {
  return inv.trusted === false ? undefined : firstString(inv.query[key]);
}

/**
 * A path parameter of `.` or `..` (sent plain or as `%2E%2E`) is refused with a 400: a handler that
 * puts it into a path of its own (a file, another URL) would climb out of the intended place.
 */
export function refuseDotSegments(params: Record<string, string>): void {
  // A plain loop: this runs per message, and nearly always finds nothing (no arrays made for that).
  let bad: FieldIssue[] | undefined;
  for (const field of Object.keys(params)) {
    const v = params[field];
    if (v !== '.' && v !== '..') continue;
    bad ??= [];
    bad.push({ field, message: 'a path parameter cannot be "." or ".."' });
  }
  if (bad) throw new InvalidInputError(bad);
}

/**
 * The raw input object from query, path parameters and body (later sources win; the path last), with
 * neither context parameters (unless the schema declares them as input) nor the token.
 */
export function rawInput(
  inv: SkillInvocation,
  skill: AnySkill,
  params: Record<string, string>,
): Record<string, unknown> {
  const shape = skill.input.shape as Record<string, z.ZodType>;
  const fromQuery = coerceQuery(shape, inv.query);
  const fromPath = coerceQuery(shape, params);
  const body = inv.body as Record<string, unknown>;
  // Copied key by key, leaving out context params and the token, rather than spread and `delete`d
  // afterwards: deleting turns the object into a slow dictionary, which made validating it ~5x slower
  // and promoted every invocation's garbage (bench `skills`).
  const raw: Record<string, unknown> = {};
  if (inputInQuery(skill.method)) {
    copyInput(raw, body, shape);
    copyInput(raw, fromQuery, shape);
  } else {
    copyInput(raw, fromQuery, shape);
    copyInput(raw, body, shape);
  }
  copyInput(raw, fromPath, shape);
  return raw;
}

/** Copies `source` into `raw`, leaving out the token and context parameters the schema does not declare. */
function copyInput(
  raw: Record<string, unknown>,
  source: Record<string, unknown>,
  shape: Record<string, z.ZodType>,
): void {
  for (const key of Object.keys(source)) {
    if (key === 'accessToken' || (CONTEXT_KEY_SET.has(key) && !Object.hasOwn(shape, key))) continue;
    if (key === '__proto__')
      Object.defineProperty(raw, key, {
        value: source[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else raw[key] = source[key];
  }
}

/** The validated input, or InvalidInputError naming every failing field. */
export function decodeInput(
  inv: SkillInvocation,
  skill: AnySkill,
  params: Record<string, string>,
): Record<string, unknown> {
  const parsed = skill.input.safeParse(rawInput(inv, skill, params));
  if (!parsed.success) throw new InvalidInputError(zodIssues(parsed.error));
  return parsed.data as Record<string, unknown>;
}
