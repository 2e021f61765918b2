import type { JsonSchema, ParamKind } from './types.js';

const KINDS: readonly ParamKind[] = ['string', 'number', 'integer', 'boolean', 'array', 'object'];
const SCALAR_KINDS: ReadonlySet<ParamKind> = new Set([
  'string',
  'number',
  'integer',
  'boolean',
  'enum',
  'unknown',
]);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The declared `type` of a schema (OpenAPI 3.1's `type: [string, 'null']` reads as `string`). */
function declaredType(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x): x is string => typeof x === 'string' && x !== 'null');
  return undefined;
}

/** What a form shows for a schema: its kind, enum values, element kind for arrays. */
export function schemaKind(schema: JsonSchema): {
  kind: ParamKind;
  enum?: Array<string | number | boolean>;
  items?: ParamKind;
} {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    const values = schema.enum.filter(
      (v): v is string | number | boolean =>
        typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
    );
    if (values.length > 0) return { kind: 'enum', enum: values };
  }
  const type = declaredType(schema);
  if (type !== undefined) {
    const kind = (KINDS as readonly string[]).includes(type) ? (type as ParamKind) : 'unknown';
    if (kind === 'array')
      return { kind, items: isObject(schema.items) ? schemaKind(schema.items).kind : 'unknown' };
    return { kind };
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const members = schema[key];
    if (Array.isArray(members)) {
      const first = members.find((m) => isObject(m) && declaredType(m) !== 'null');
      if (isObject(first)) return schemaKind(first);
    }
  }
  if (isObject(schema.properties)) return { kind: 'object' };
  if (isObject(schema.items)) return { kind: 'array', items: schemaKind(schema.items).kind };
  return { kind: 'unknown' };
}

/** True for kinds that fit in a query string or one flat level of a body (arrays of scalars included). */
export function isFlatKind(k: { kind: ParamKind; items?: ParamKind }): boolean {
  if (SCALAR_KINDS.has(k.kind)) return true;
  return k.kind === 'array' && k.items !== undefined && SCALAR_KINDS.has(k.items);
}
