import { CONTEXT_FORMATS, isKnownContext } from '@dingtalk-skills/sdk/protocol';
import { isFlatKind, isObject, schemaKind } from './schema-kind.js';
import type { ContextRef, JsonSchema, SkillParam } from './types.js';

/** What the field readers need from the document reader: report a problem, follow a `$ref`. */
export interface SpecCursor {
  problem(at: string, message: string): void;
  /** The value `$ref`s lead to; undefined (problem reported) when they go nowhere. */
  deref(value: unknown, at: string): unknown;
}

/** A value as a problem message quotes it (shortened). */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A query or path parameter: a scalar or a list of scalars, with its `x-dingtalk-context`. */
export function readParameter(r: SpecCursor, at: string, raw: unknown): SkillParam | undefined {
  if (raw === undefined) return undefined; // a broken $ref, already reported
  if (!isObject(raw)) {
    r.problem(at, 'expected a parameter object {name, in, schema}');
    return undefined;
  }
  const name = typeof raw.name === 'string' ? raw.name : '';
  if (name === '') {
    r.problem(`${at}.name`, 'missing');
    return undefined;
  }
  if (raw.in !== 'query' && raw.in !== 'path') {
    r.problem(
      `${at}.in`,
      `parameter "${name}": in must be query or path (the assistant sends no ${show(raw.in)} parameters)`,
    );
    return undefined;
  }
  const schema = raw.schema === undefined ? {} : r.deref(raw.schema, `${at}.schema`);
  if (schema === undefined) return undefined;
  if (!isObject(schema)) {
    r.problem(`${at}.schema`, `parameter "${name}": expected a schema object`);
    return undefined;
  }
  const kind = schemaKind(schema);
  if (!isFlatKind(kind)) {
    r.problem(`${at}.schema`, `parameter "${name}" must be a scalar or a list of scalars (got ${kind.kind})`);
    return undefined;
  }
  const param: SkillParam = {
    name,
    in: raw.in,
    required: raw.in === 'path' || raw.required === true,
    ...kind,
    schema,
  };
  const description = typeof raw.description === 'string' ? raw.description : schema.description;
  if (typeof description === 'string') param.description = description;
  if (schema.default !== undefined) param.default = schema.default;
  const context = readContext(r, at, name, schema['x-dingtalk-context'] ?? raw['x-dingtalk-context']);
  if (context) param.context = context;
  return param;
}

/** A JSON request body: one flat level of an object, each property a parameter `in: body`. */
export function readBody(r: SpecCursor, at: string, body: unknown): SkillParam[] {
  if (body === undefined) return [];
  if (!isObject(body) || !isObject(body.content)) {
    r.problem(at, 'expected {content: {application/json: {schema}}}');
    return [];
  }
  const json = body.content['application/json'];
  if (!isObject(json)) {
    const types = Object.keys(body.content).join(', ') || 'none';
    r.problem(`${at}.content`, `request bodies must be application/json (found: ${types})`);
    return [];
  }
  const schema = r.deref(json.schema, `${at}.content['application/json'].schema`);
  const sAt = `${at}.content['application/json'].schema`;
  if (schema === undefined && json.schema !== undefined) return [];
  if (
    !isObject(schema) ||
    (schema.type !== undefined && schema.type !== 'object') ||
    !isObject(schema.properties)
  ) {
    r.problem(sAt, 'expected an object schema with properties (one flat level)');
    return [];
  }
  const required = Array.isArray(schema.required) ? schema.required : [];
  const params: SkillParam[] = [];
  for (const [name, rawProp] of Object.entries(schema.properties)) {
    const pAt = `${sAt}.properties.${name}`;
    const prop = r.deref(rawProp, pAt);
    if (prop === undefined) continue;
    if (!isObject(prop)) {
      r.problem(pAt, 'expected a schema object');
      continue;
    }
    const kind = schemaKind(prop);
    if (!isFlatKind(kind)) {
      r.problem(
        pAt,
        `body field "${name}" is a nested ${kind.kind === 'array' ? 'list of objects' : kind.kind}: request bodies must be one flat level of an object`,
      );
      continue;
    }
    const param: SkillParam = {
      name,
      in: 'body',
      required: required.includes(name),
      ...kind,
      schema: prop,
    };
    if (typeof prop.description === 'string') param.description = prop.description;
    if (prop.default !== undefined) param.default = prop.default;
    const context = readContext(r, pAt, name, prop['x-dingtalk-context']);
    if (context) param.context = context;
    params.push(param);
  }
  return params;
}

/** An `x-dingtalk-context` pair the platform fills (the vocabulary: `@dingtalk-skills/sdk/protocol`, context.ts). */
function readContext(r: SpecCursor, at: string, name: string, value: unknown): ContextRef | undefined {
  if (value === undefined) return undefined;
  const cAt = `${at}.x-dingtalk-context`;
  if (!isObject(value) || typeof value.property !== 'string' || typeof value.format !== 'string') {
    r.problem(
      cAt,
      `parameter "${name}": expected {property, format}, e.g. {property: currentUser, format: userId}`,
    );
    return undefined;
  }
  if (!isKnownContext(value.property, value.format)) {
    const known = Object.entries(CONTEXT_FORMATS)
      .map(([p, fs]) => `${p}: ${fs.join('|')}`)
      .join('; ');
    r.problem(
      cAt,
      `parameter "${name}": unknown context ${value.property}/${value.format} (known: ${known})`,
    );
    return undefined;
  }
  return { property: value.property, format: value.format };
}

/** The JSON schema of the first 2xx (or `default`) response, if it has one. */
export function readResponse(r: SpecCursor, at: string, responses: unknown): JsonSchema | undefined {
  if (responses === undefined) return undefined;
  if (!isObject(responses)) {
    r.problem(at, 'expected a mapping of status codes to responses');
    return undefined;
  }
  const key =
    Object.keys(responses).find((k) => /^2(\d\d|XX)$/.test(k)) ??
    ('default' in responses ? 'default' : undefined);
  if (key === undefined) return undefined;
  const response = r.deref(responses[key], `${at}.${key}`);
  if (!isObject(response) || response.content === undefined) return undefined;
  if (!isObject(response.content)) {
    r.problem(`${at}.${key}.content`, 'expected a mapping of media types');
    return undefined;
  }
  const json = response.content['application/json'];
  if (!isObject(json)) {
    const types = Object.keys(response.content).join(', ');
    r.problem(`${at}.${key}.content`, `response bodies must be application/json (found: ${types})`);
    return undefined;
  }
  const schema =
    json.schema === undefined
      ? undefined
      : r.deref(json.schema, `${at}.${key}.content['application/json'].schema`);
  return isObject(schema) ? schema : undefined;
}
