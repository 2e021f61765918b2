import type { GraphMethod } from '../protocol/graph.js';
import type { AnySkill } from './define-skill.js';
import { SkillNotFoundError } from './errors.js';
import type { SkillInvocation } from './invocation.js';

/** One segment of a skill's path: a literal, or a `{name}` template variable. */
type Segment = { literal: string } | { param: string };

interface PathRoute {
  method: GraphMethod;
  segments: Segment[];
  skill: AnySkill;
}

/** A routed skill and the path parameters taken from its template (decoded values). */
export interface RouteMatch {
  skill: AnySkill;
  params: Record<string, string>;
}

function parseTemplate(path: string): Segment[] {
  return path
    .split('/')
    .map((seg) =>
      seg.startsWith('{') && seg.endsWith('}') ? { param: seg.slice(1, -1) } : { literal: seg },
    );
}

/** Drops one trailing empty segment (`/a/b/` routes like `/a/b`), never the root's. */
function withoutTrailingSlash(segments: readonly string[]): readonly string[] {
  return segments.length > 2 && segments[segments.length - 1] === '' ? segments.slice(0, -1) : segments;
}

/**
 * Matches decoded request segments against a template. Segments were split before they were decoded,
 * so a value holding `/` (sent as `%2F`) stays one parameter and never equals a literal.
 */
function match(
  template: readonly Segment[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (template.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const seg = segments[i]!;
    if ('param' in t) params[t.param] = seg;
    else if (t.literal !== seg) return undefined;
  }
  return params;
}

/** Finds a skill by ability key, or by method + path (templates like `/customers/{id}` supported). */
export class RouteTable {
  readonly #byAbility = new Map<string, PathRoute>();
  readonly #routes: PathRoute[] = [];

  add(skill: AnySkill): void {
    const route: PathRoute = { method: skill.method, segments: parseTemplate(skill.path), skill };
    this.#byAbility.set(skill.abilityKey, route);
    // Literal paths first, so `/customers/me` wins over `/customers/{id}`.
    if (route.segments.some((s) => 'param' in s)) this.#routes.push(route);
    else this.#routes.unshift(route);
  }

  byAbility(key: string): AnySkill | undefined {
    return this.#byAbility.get(key)?.skill;
  }

  /**
   * The path parameters of `skill`'s own template in the request's segments: the platform routes by
   * `x-ability-key` and still sends the action's path with its parameters filled in. Empty when the
   * request carries no path or a path of another shape (the input check then names what is missing).
   */
  paramsFor(skill: AnySkill, segments: readonly string[] | undefined): Record<string, string> {
    const route = this.#byAbility.get(skill.abilityKey);
    if (!route || !segments) return {};
    return match(route.segments, withoutTrailingSlash(segments)) ?? {};
  }

  /** The skill for a method and the request's decoded path segments, with its path parameters. */
  byPath(method: GraphMethod, segments: readonly string[]): RouteMatch | undefined {
    const parts = withoutTrailingSlash(segments);
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const params = match(route.segments, parts);
      if (params) return { skill: route.skill, params };
    }
    return undefined;
  }

  /**
   * The skill an invocation names, with its path parameters: by `x-ability-key` first (its parameters
   * still come from the request's path), else by method + path. SkillNotFoundError (404) otherwise; a
   * legacy plugin call routes by ability key only.
   */
  route(inv: SkillInvocation): RouteMatch {
    const segments = inv.segments ?? inv.path?.split('/');
    if (inv.abilityKey) {
      const skill = this.byAbility(inv.abilityKey);
      if (skill) return { skill, params: this.paramsFor(skill, segments) };
      if (inv.source === 'plugin') throw new SkillNotFoundError(`ability key "${inv.abilityKey}"`);
    }
    if (inv.method && segments) {
      const found = this.byPath(inv.method, segments);
      if (found) return found;
      throw new SkillNotFoundError(
        inv.abilityKey
          ? `ability key "${inv.abilityKey}" or ${inv.method} ${inv.path}`
          : `${inv.method} ${inv.path}`,
      );
    }
    throw new SkillNotFoundError(inv.abilityKey ? `ability key "${inv.abilityKey}"` : 'this request');
  }
}
