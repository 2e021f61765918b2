import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callbackErrorPage } from '../assistant/page.js';
import { ControlError } from '../control/errors.js';
import { parseInput } from '../control/validate.js';
import type { McpViewSessions } from './sessions.js';

/** `PUT /sandbox/mcp/endpoint`: the MCP endpoint the view connects to (`dev --mcp-port` sets it). */
const endpointBody = z
  .object({
    url: z
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
  })
  .strict();

const callBody = z
  .object({
    tool: z.string().min(1).max(128),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const userParams = z.object({ userId: z.string().min(1).max(128) });

const callbackQuery = z.object({
  state: z.string().min(1).max(256),
  code: z.string().min(1).max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

export interface McpViewDeps {
  sessions: McpViewSessions;
  knownUser: (userId: string) => boolean;
}

/**
 * Control API of the page's MCP client view (relative to `/sandbox`):
 * - `PUT /mcp/endpoint` `{url}`; `GET /mcp/endpoint` → `{url}` (null before `dev --mcp-port` sets it).
 * - `GET /mcp/sessions/:userId`: the user's MCP client: status, tools, transcript, the authorization
 *   URL while awaiting consent.
 * - `POST /mcp/sessions/:userId/tools`: `tools/list`; `POST /mcp/sessions/:userId/call` `{tool, arguments}`:
 *   `tools/call`. Both answer the session; on a 401/403 challenge with `status: 'awaiting_consent'` and
 *   the `authorizationUrl` the browser opens.
 * - `POST /mcp/sessions/:userId/forget`: drops the user's registration and tokens.
 * - `GET /mcp/callback?code&state`: the MCP client's redirect URI (the browser arrives here after both
 *   consent pages): exchanges the code, runs the waiting operation again, back to `/?mcp=<userId>`.
 */
export function registerMcpView(deps: McpViewDeps) {
  const user = (params: unknown) => {
    const { userId } = parseInput(userParams, params, 'userId');
    if (!deps.knownUser(userId)) throw new ControlError(404, 'unknownUser', `no user ${userId}`, 'userId');
    return userId;
  };
  const endpoint = (userId: string) => {
    if (deps.sessions.view(userId).status === 'busy')
      throw new ControlError(409, 'mcpBusy', `an MCP request of ${userId} is still running`);
    if (deps.sessions.url === undefined)
      throw new ControlError(
        409,
        'noMcpEndpoint',
        'no MCP endpoint: start dev with --mcp-port (or PUT /sandbox/mcp/endpoint)',
      );
  };
  return (scope: FastifyInstance) => {
    scope.get('/mcp/endpoint', async () => ({ url: deps.sessions.url ?? null }));
    scope.put('/mcp/endpoint', async (req) => {
      const { url } = parseInput(endpointBody, req.body);
      deps.sessions.setUrl(url);
      return { url };
    });
    scope.get('/mcp/sessions/:userId', async (req) => ({
      url: deps.sessions.url ?? null,
      ...deps.sessions.view(user(req.params)),
    }));
    scope.post('/mcp/sessions/:userId/tools', async (req) => {
      const userId = user(req.params);
      endpoint(userId);
      return deps.sessions.run(userId, { kind: 'list' });
    });
    scope.post('/mcp/sessions/:userId/call', async (req) => {
      const userId = user(req.params);
      const body = parseInput(callBody, req.body);
      endpoint(userId);
      return deps.sessions.run(userId, { kind: 'call', tool: body.tool, arguments: body.arguments });
    });
    scope.post('/mcp/sessions/:userId/forget', async (req) => {
      deps.sessions.forget(user(req.params));
      return { forgotten: true };
    });
    scope.get('/mcp/callback', async (req, reply) => {
      const q = callbackQuery.safeParse(req.query);
      const page = (detail: string) =>
        reply
          .code(400)
          .type('text/html; charset=utf-8')
          .send(callbackErrorPage('MCP 授权未完成', 'MCP authorization not completed', detail));
      if (!q.success) return page('the callback carries no valid state');
      const session = await deps.sessions.finish({
        state: q.data.state,
        ...(q.data.code ? { code: q.data.code } : {}),
        ...(q.data.error ? { error: q.data.error } : {}),
        ...(q.data.error_description ? { errorDescription: q.data.error_description } : {}),
      });
      if (!session) return page('unknown or used state: start again from the MCP view');
      return reply.redirect(`/?mcp=${encodeURIComponent(session.userId)}`, 303);
    });
  };
}
