import type { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { baseTypeOf } from '../skills/coerce.js';
import { type AnySkill, CONTEXT_PARAMS, inputInQuery } from '../skills/define-skill.js';

/** One reason the DingTalk console would reject the generated description. */
export interface SpecIssue {
  operationId: string;
  message: string;
}

/** Thrown by the spec generator when skills break the platform's rules; lists every issue. */
export class SpecRuleError extends DingTalkSkillsError {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[]) {
    super(
      ErrorCode.Config,
      `the skills break DingTalk's rules for AI assistant actions:\n${issues.map((i) => `  - ${i.operationId || '(unnamed)'}: ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

const CAMEL = /^[a-z][A-Za-z0-9]*$/;
/** DingTalk recommends camelCase but accepts (and uses in its own examples) PascalCase. */
const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const SCALARS = new Set(['string', 'number', 'int', 'boolean', 'bigint', 'enum', 'literal', 'date', 'null']);

/** Path parameters named in a path template (`/customers/{id}` -> `id`); `[^{}]` keeps the scan linear. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
}

/**
 * What DingTalk only recommends against: accepted, but worth a warning (a PascalCase operationId;
 * DingTalk's documentation asks for camelCase and its own examples use PascalCase).
 */
export function checkPlatformWarnings(skills: readonly AnySkill[]): SpecIssue[] {
  return skills
    .filter((s) => typeof s.operationId === 'string' && PASCAL.test(s.operationId))
    .map((s) => ({
      operationId: s.operationId,
      message: `operationId "${s.operationId}" is PascalCase: DingTalk recommends camelCase (accepted)`,
    }));
}

/**
 * Checks skills against the rules DingTalk applies when an OpenAPI description is registered:
 * summary, description and a unique camelCase operationId on every action; no two parameters of one
 * operation with the same name; request bodies a flat JSON object (no nested objects); query and path
 * parameters scalar (or arrays of scalars); a path that starts with `/` and whose template variables
 * (`{id}`) are fields of the input.
 */
export function checkPlatformRules(skills: readonly AnySkill[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seenIds = new Map<string, number>();
  const seenRoutes = new Set<string>();
  const seenAbility = new Set<string>();
  for (const skill of skills) {
    const id = skill.operationId ?? '';
    const add = (message: string) => issues.push({ operationId: id, message });
    if (!id) add('operationId is missing');
    else if (!CAMEL.test(id) && !PASCAL.test(id))
      add(
        `operationId "${id}" must be camelCase (letters and digits, starting lower case; PascalCase is accepted with a warning)`,
      );
    seenIds.set(id, (seenIds.get(id) ?? 0) + 1);
    if (!skill.summary?.trim()) add('summary is missing (a short verb phrase)');
    if (!skill.description?.trim()) add('description is missing');
    if (!skill.path.startsWith('/')) add(`path "${skill.path}" must start with "/"`);
    const route = `${skill.method} ${skill.path}`;
    if (seenRoutes.has(route)) add(`${route} is declared by another skill too`);
    seenRoutes.add(route);
    if (seenAbility.has(skill.abilityKey))
      add(`ability key "${skill.abilityKey}" is used by another skill too`);
    seenAbility.add(skill.abilityKey);
    const shape = (skill.input?.shape ?? undefined) as Record<string, z.ZodType> | undefined;
    if (!shape) {
      add('input must be a zod object (request bodies are application/json objects)');
      continue;
    }
    const names = new Map<string, string>();
    const claim = (name: string, where: string) => {
      const prev = names.get(name);
      if (prev) add(`parameter "${name}" appears twice (${prev} and ${where})`);
      else names.set(name, where);
    };
    for (const p of pathParams(skill.path)) {
      claim(p, 'path');
      if (!(p in shape))
        add(`path parameter "{${p}}" of ${skill.path} is not a field of input: add ${p} to the input object`);
    }
    for (const c of skill.context) if (!(c in shape)) claim(c, 'context');
    const inQuery = inputInQuery(skill.method);
    for (const [name, field] of Object.entries(shape)) {
      if (!pathParams(skill.path).includes(name)) claim(name, inQuery ? 'query' : 'body');
      const base = baseTypeOf(field);
      const scalar = SCALARS.has(base.type);
      const scalarArray = base.type === 'array' && base.element && SCALARS.has(baseTypeOf(base.element).type);
      if (inQuery && !scalar && !scalarArray)
        add(`query parameter "${name}" must be a scalar or an array of scalars (got ${base.type})`);
      if (!inQuery && !scalar && !scalarArray)
        add(`body field "${name}" is a nested ${base.type}: POST bodies must be one flat level of an object`);
    }
    for (const c of skill.context) if (!(c in CONTEXT_PARAMS)) add(`unknown context parameter "${c}"`);
  }
  for (const [id, count] of seenIds)
    if (id && count > 1) issues.push({ operationId: id, message: 'operationId is not unique' });
  return issues;
}
