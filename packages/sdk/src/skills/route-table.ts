import type { GraphMethod } from '../protocol/graph.js';
import type { AnySkill } from './define-skill.js';

interface PathRoute {
  method: GraphMethod;
  segments: string[];
  skill: AnySkill;
}

/** Finds a skill by ability key, or by method + path (templates like `/customers/{id}` supported). */
export class RouteTable {
  readonly #byAbility = new Map<string, AnySkill>();
  readonly #exact = new Map<string, AnySkill>();
  readonly #templates: PathRoute[] = [];

  add(skill: AnySkill): void {
    this.#byAbility.set(skill.abilityKey, skill);
    if (skill.path.includes('{')) {
      this.#templates.push({ method: skill.method, segments: skill.path.split('/'), skill });
    } else {
      this.#exact.set(`${skill.method} ${skill.path}`, skill);
    }
  }

  byAbility(key: string): AnySkill | undefined {
    return this.#byAbility.get(key);
  }

  /** The skill and the path parameters taken from a template. */
  byPath(method: GraphMethod, path: string): { skill: AnySkill; params: Record<string, string> } | undefined {
    const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const exact = this.#exact.get(`${method} ${normalized}`);
    if (exact) return { skill: exact, params: {} };
    const parts = normalized.split('/');
    for (const route of this.#templates) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        if (seg.startsWith('{') && seg.endsWith('}')) params[seg.slice(1, -1)] = parts[i]!;
        else ok = seg === parts[i];
      }
      if (ok) return { skill: route.skill, params };
    }
    return undefined;
  }
}
