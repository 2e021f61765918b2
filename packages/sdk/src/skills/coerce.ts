import type { z } from 'zod';

type ZodInternals = { _zod: { def: { type: string; innerType?: unknown; element?: unknown; in?: unknown } } };

/** The underlying zod type name of a field, looking through optional/nullable/default/catch/readonly/pipe. */
export function baseTypeOf(schema: z.ZodType): { type: string; element?: z.ZodType } {
  let s = schema as unknown as ZodInternals;
  for (let i = 0; i < 10; i++) {
    const def = s._zod.def;
    if (
      (def.type === 'optional' ||
        def.type === 'nullable' ||
        def.type === 'default' ||
        def.type === 'prefault' ||
        def.type === 'catch' ||
        def.type === 'readonly' ||
        def.type === 'nonoptional') &&
      def.innerType
    ) {
      s = def.innerType as ZodInternals;
      continue;
    }
    if (def.type === 'pipe' && def.in) {
      s = def.in as ZodInternals;
      continue;
    }
    if (def.type === 'array') return { type: 'array', element: def.element as z.ZodType };
    return { type: def.type };
  }
  return { type: 'unknown' };
}

function coerceScalar(type: string, raw: string): unknown {
  switch (type) {
    case 'number':
    case 'int': {
      if (raw.trim() === '') return raw;
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return raw;
    case 'bigint':
      return /^-?\d+$/.test(raw) ? BigInt(raw) : raw;
    default:
      return raw;
  }
}

/**
 * Turns query-string values (always strings) into what the input schema expects: numbers, booleans,
 * arrays (a repeated name, or one comma-separated value). Values that do not convert are left as they
 * are, so the schema reports them precisely.
 */
export function coerceQuery(
  shape: Record<string, z.ZodType>,
  query: Record<string, string | string[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(query)) {
    const raw = query[key] as string | string[];
    // Own properties only: a query name like `toString` or `__proto__` is data, never the prototype's.
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) {
      setOwn(out, key, raw);
      continue;
    }
    const base = baseTypeOf(field);
    if (base.type === 'array') {
      const items = Array.isArray(raw) ? raw : raw === '' ? [] : raw.split(',');
      const el = base.element ? baseTypeOf(base.element).type : 'string';
      setOwn(
        out,
        key,
        items.map((v) => coerceScalar(el, v)),
      );
    } else {
      const value = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
      setOwn(out, key, coerceScalar(base.type, value));
    }
  }
  return out;
}

/** Sets an own, enumerable property, also for `__proto__` (a plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
