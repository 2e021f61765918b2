import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging/logger.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import type { AnySkill } from '../skills/define-skill.js';
import type { SkillOutcome } from '../skills/outcome.js';
import type { McpOptions } from './mcp-server.js';
import { MCP_PATH } from './start.js';

export type Challenge = { status: 401 | 403; error: string; description: string; scope: string[] };

/**
 * The HTTP challenge for a DingTalk refusal, or undefined for an isError result: no or dead DingTalk
 * grant -> 401 (log in again); a scope the user can grant -> 403 insufficient_scope (step-up); a scope
 * the skill does not declare (the app itself lacks it) -> isError, since re-consent would loop.
 */
export function authChallenge(outcome: SkillOutcome & { kind: 'auth' }, skill: AnySkill, auth: AuthInfo) {
  if (outcome.code === AuthFailureCode.InvalidAuthentication)
    return {
      status: 401 as const,
      error: 'invalid_token',
      description: 'the DingTalk authorization is gone; sign in again',
      scope: auth.scopes,
    };
  const required = outcome.requiredScopes?.length ? outcome.requiredScopes : skill.scopes;
  if (!required.every((s) => skill.scopes.includes(s))) return undefined;
  return {
    status: 403 as const,
    error: 'insufficient_scope',
    description: 'DingTalk needs your consent for more permissions',
    scope: [...new Set([...auth.scopes, ...required])],
  };
}

/** Host and Origin validation (DNS rebinding): a foreign Host or Origin gets 403. */
export function hostAndOriginGuard(base: string, port: number, host: string, o: McpOptions, log: Logger) {
  const publicUrl = new URL(base);
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const hosts = new Set([publicUrl.host, ...(o.allowedHosts ?? [])]);
  const origins = new Set([publicUrl.origin, ...(o.allowedOrigins ?? [])]);
  if (loopback)
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      hosts.add(h);
      origins.add(`http://${h}`);
    }
  return (req: Request, res: Response, next: NextFunction) => {
    const h = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!hosts.has(h) || (origin !== undefined && !origins.has(origin))) {
      log.info({ host: h, origin }, 'mcp: refused a request from a foreign Host or Origin');
      res
        .status(403)
        .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden host or origin' }, id: null });
      return;
    }
    next();
  };
}

/**
 * Bad input (JSON that does not parse, a body over the limit) gets a defined answer and a log line,
 * never express's default page with a stack trace: a JSON-RPC error on the MCP endpoint, an OAuth-style
 * error elsewhere.
 */
export function badInputHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; message?: unknown };
    const raw = Number(e.status ?? e.statusCode);
    const status = Number.isInteger(raw) && raw >= 400 && raw < 600 ? raw : 500;
    if (status >= 500) log.error({ err, path: req.path }, 'mcp: request failed');
    else log.info({ status, type: e.type, path: req.path }, 'mcp: bad request refused');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message =
      status === 413
        ? 'request body too large'
        : status === 400
          ? 'malformed request body'
          : 'internal error';
    if (req.path === MCP_PATH)
      res.status(status).json({
        jsonrpc: '2.0',
        error: { code: status === 400 ? -32700 : status === 413 ? -32600 : -32603, message },
        id: null,
      });
    else
      res
        .status(status)
        .json({ error: status < 500 ? 'invalid_request' : 'server_error', error_description: message });
  };
}
