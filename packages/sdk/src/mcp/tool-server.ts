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
import { VERSION } from '../version.js';

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
