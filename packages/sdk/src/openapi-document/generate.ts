import { createRequire } from 'node:module';
import { z } from 'zod';
import { type AnySkill, CONTEXT_PARAMS, inputInQuery } from '../skills/define-skill.js';
import {
  checkPlatformRules,
  checkPlatformWarnings,
  pathParams,
  type SpecIssue,
  SpecRuleError,
} from './platform-rules.js';

const requireHere = createRequire(import.meta.url);

export interface SpecOptions {
  title: string;
  version?: string;
  description?: string;
  /** `stream` adds `x-dingtalk-protocol: stream` (calls arrive over the Stream connection). */
  protocol?: 'stream' | 'http';
  /** Server URL for HTTP actions. */
  serverUrl?: string;
  /** Told what DingTalk only recommends against (e.g. a PascalCase operationId); the spec is still made. */
  onWarning?: (issue: SpecIssue) => void;
}

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function operation(skill: AnySkill): Record<string, unknown> {
  const shape = skill.input.shape as Record<string, z.ZodType>;
  const inputSchema = toSchema(skill.input, 'input');
  const props = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((inputSchema.required ?? []) as string[]);
  const pParams = pathParams(skill.path);
  const parameters: Record<string, unknown>[] = [];
  for (const name of pParams) {
    const schema = props[name] ?? { type: 'string' };
    parameters.push({ name, in: 'path', required: true, description: schema.description ?? name, schema });
  }
  const inQuery = inputInQuery(skill.method);
  if (inQuery) {
    for (const [name, schema] of Object.entries(props)) {
      if (pParams.includes(name)) continue;
      const p: Record<string, unknown> = { name, in: 'query', required: required.has(name), schema };
      if (typeof schema.description === 'string') p.description = schema.description;
      parameters.push(p);
    }
  }
  for (const c of skill.context) {
    if (c in shape) continue;
    const ctx = CONTEXT_PARAMS[c];
    parameters.push({
      name: c,
      in: 'query',
      required: false,
      description: ctx.description,
      schema: { type: 'string', 'x-dingtalk-context': { property: ctx.property, format: ctx.format } },
    });
  }
  const op: Record<string, unknown> = {
    summary: skill.summary,
    description: skill.description,
    operationId: skill.operationId,
  };
  if (skill.scopes.length > 0) op['x-dingtalk-delegated-scopes'] = skill.scopes;
  if (parameters.length > 0) op.parameters = parameters;
  if (!inQuery) {
    const bodyProps = Object.fromEntries(Object.entries(props).filter(([n]) => !pParams.includes(n)));
    const bodySchema: JsonSchema = { type: 'object', properties: bodyProps };
    const req = [...required].filter((n) => !pParams.includes(n));
    if (req.length > 0) bodySchema.required = req;
    op.requestBody = { required: req.length > 0, content: { 'application/json': { schema: bodySchema } } };
  }
  const response: Record<string, unknown> = { description: 'OK' };
  response.content = {
    'application/json': { schema: skill.output ? toSchema(skill.output, 'output') : { type: 'object' } },
  };
  op.responses = { '200': response };
  return op;
}

/**
 * The OpenAPI 3.0 document a developer registers in the DingTalk console for these skills.
 * Throws SpecRuleError listing every rule the platform would reject.
 */
export function generateSpec(skills: readonly AnySkill[], options: SpecOptions): Record<string, unknown> {
  const issues = checkPlatformRules(skills);
  if (issues.length > 0) throw new SpecRuleError(issues);
  if (options.onWarning) for (const warning of checkPlatformWarnings(skills)) options.onWarning(warning);
  const doc: Record<string, unknown> = { openapi: '3.0.1' };
  const info: Record<string, unknown> = { title: options.title, version: options.version ?? '1.0.0' };
  if (options.description) info.description = options.description;
  doc.info = info;
  if ((options.protocol ?? 'stream') === 'stream') doc['x-dingtalk-protocol'] = 'stream';
  if (options.serverUrl) doc.servers = [{ url: options.serverUrl }];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const skill of skills) {
    const entry = paths[skill.path] ?? {};
    entry[skill.method.toLowerCase()] = operation(skill);
    paths[skill.path] = entry;
  }
  doc.paths = paths;
  return doc;
}

/** generateSpec rendered as YAML. */
export function generateSpecYaml(skills: readonly AnySkill[], options: SpecOptions): string {
  // yaml (~9 MB of RSS) loads when a YAML spec is asked for, not when the SDK is imported.
  const { stringify } = requireHere('yaml') as typeof import('yaml');
  return stringify(generateSpec(skills, options), { lineWidth: 0 });
}
