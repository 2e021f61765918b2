import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  McpError,
  ErrorCode as McpErrorCode,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import { z } from 'zod';
import type { AnySkill } from '../skills/define-skill.js';
import type { SkillOutcome } from '../skills/outcome.js';
import { VERSION } from '../version.js';

type JsonSchemaObject = { type: 'object'; [k: string]: unknown };

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchemaObject | undefined {
  try {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    return json.type === 'object' ? (json as JsonSchemaObject) : undefined;
  } catch {
    return undefined;
  }
}

/** The MCP tool of a skill: name = operationId, the zod input/output as JSON Schema 2020-12, hints. */
export function toolOf(skill: AnySkill): Tool {
  const inputSchema = jsonSchemaOf(skill.input, 'input') ?? { type: 'object' };
  const outputSchema = skill.output ? jsonSchemaOf(skill.output, 'output') : undefined;
  const readOnly = skill.method === 'GET';
  return {
    name: skill.operationId,
    title: skill.summary,
    description: skill.description,
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    annotations: {
      title: skill.summary,
      readOnlyHint: readOnly,
      destructiveHint: readOnly ? false : (skill.annotations?.destructive ?? skill.method === 'DELETE'),
      idempotentHint:
        readOnly || (skill.annotations?.idempotent ?? (skill.method === 'PUT' || skill.method === 'DELETE')),
      openWorldHint: skill.annotations?.openWorld ?? true,
    },
    ...(skill.scopes.length ? { _meta: { 'dingtalk/scopes': skill.scopes } } : {}),
  };
}

/** A skill outcome as a tool result: structuredContent + text, or `isError` with the same stable code. */
export function toolResultOf(outcome: SkillOutcome, requestId: string): CallToolResult {
  if (outcome.kind === 'ok') {
    const body = outcome.body;
    const structured =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined;
    return {
      content: [{ type: 'text', text: JSON.stringify(body ?? null) }],
      ...(structured ? { structuredContent: structured } : {}),
    };
  }
  const error =
    outcome.kind === 'auth'
      ? {
          code: outcome.code,
          message: 'the DingTalk app itself lacks this permission; ask its administrator to add it',
          ...(outcome.requiredScopes ? { requiredScopes: outcome.requiredScopes } : {}),
        }
      : {
          code: outcome.code,
          message: outcome.message,
          ...(outcome.fields ? { fields: outcome.fields } : {}),
        };
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify({ ...error, requestId }) }],
  };
}

let validator: AjvJsonSchemaValidator | undefined;
const sharedValidator = () => {
  validator ??= new AjvJsonSchemaValidator();
  return validator;
};

/**
 * A fresh low-level SDK server for one HTTP request (stateless): `tools/list` from the skills' tools
 * (made once at start with {@link toolOf}),
 * `tools/call` answered from `answer` (the skill run before dispatch, so its authorization outcome
 * could still pick the HTTP status).
 */
export function createToolServer(
  tools: readonly Tool[],
  appName: string,
  answer: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>,
): Server {
  const server = new Server(
    { name: appName, version: VERSION },
    // One validator for every per-request server: the SDK's default builds a new Ajv each time.
    { capabilities: { tools: { listChanged: false } }, jsonSchemaValidator: sharedValidator() },
  );
  const names = new Set(tools.map((t) => t.name));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...tools] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args } = request.params;
    if (!names.has(name)) throw new McpError(McpErrorCode.InvalidParams, `Tool ${name} not found`);
    return answer(name, args ?? {});
  });
  return server;
}
