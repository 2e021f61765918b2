/** Status codes an injected OpenAPI fault can answer with. */
export type FaultStatus = 500 | 502 | 503 | 504;

/** One injected fault: slow down or fail OpenAPI calls whose path starts with `path` (or all: `*`). */
export interface OpenApiFault {
  id: number;
  path: string;
  mode: 'delay' | 'status';
  /** Milliseconds to wait before answering (both modes). */
  delayMs: number;
  status?: FaultStatus;
  /** Error code in the body; defaults per status. */
  code?: string;
  /** Calls left to affect; null = until cleared. */
  remaining: number | null;
}

export interface FaultInput {
  path?: string;
  mode: 'none' | 'delay' | 'status';
  delayMs?: number;
  status?: FaultStatus;
  code?: string;
  times?: number;
}

/** Injected OpenAPI faults. The newest matching rule applies; `times` counts down to removal. */
export class OpenApiFaults {
  #rules: OpenApiFault[] = [];
  #nextId = 1;

  /** Adds a rule, or for mode `none` removes the rules for that path (all rules for `*` or no path). */
  apply(input: FaultInput): OpenApiFault[] {
    const path = input.path ?? '*';
    if (input.mode === 'none') {
      this.#rules = path === '*' ? [] : this.#rules.filter((r) => r.path !== path);
      return this.list();
    }
    const rule: OpenApiFault = {
      id: this.#nextId++,
      path,
      mode: input.mode,
      delayMs: input.delayMs ?? 0,
      remaining: input.times ?? null,
    };
    if (input.mode === 'status') rule.status = input.status ?? 500;
    if (input.code !== undefined) rule.code = input.code;
    this.#rules.push(rule);
    return this.list();
  }

  /** The rule for this request path, counted as used; undefined when none applies. */
  take(path: string): OpenApiFault | undefined {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const rule = this.#rules[i]!;
      if (rule.path !== '*' && !path.startsWith(rule.path)) continue;
      if (rule.remaining !== null) {
        rule.remaining -= 1;
        if (rule.remaining <= 0) this.#rules.splice(i, 1);
      }
      return { ...rule };
    }
    return undefined;
  }

  list(): OpenApiFault[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.#rules = [];
  }
}
