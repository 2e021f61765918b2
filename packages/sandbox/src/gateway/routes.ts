import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LogBudget } from '@dingtalk-skills/sdk/internal';
import { CONNECTIONS_OPEN_PATH } from '@dingtalk-skills/sdk/protocol';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from './gateway.js';
import { rejectUpgrade } from './handshake.js';

/** Judges a WebSocket handshake's headers before the gateway sees it: a refusal, or undefined to go on. */
export type UpgradeCheck = (
  headers: IncomingHttpHeaders,
) => { status: number; code: string; message: string } | undefined;

/** True when an Accept header asks for JSON (DingTalk's SDKs all send `Accept: application/json`). */
function acceptsJson(accept: string | undefined): boolean {
  return accept !== undefined && /(^|[\s,])application\/json(\s*[;,]|\s*$)/i.test(accept);
}

/**
 * `POST /v1.0/gateway/connections/open` and the `/connect` WebSocket upgrade. The body is read as
 * raw text (any content type) so bad JSON gets DingTalk's `invalidParameter` envelope, not Fastify's.
 * Like the other OpenAPI routes the answer carries `x-acs-request-id` (the error body's `requestid`)
 * and `x-acs-trace-id`. Without `Accept: application/json` DingTalk's gateway may answer XML
 * (stream-protocol.md §1; the exact behaviour is not documented): the sandbox answers JSON anyway and
 * logs a warning (rate-limited) so the difference is seen before it matters live.
 * `checkUpgrade` (the sandbox's admission: Host, Origin) runs before every handshake.
 */
export async function registerGatewayRoutes(
  app: FastifyInstance,
  gateway: Gateway,
  checkUpgrade?: UpgradeCheck,
): Promise<void> {
  const acceptWarnings = new LogBudget(5, 0.2);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(CONNECTIONS_OPEN_PATH, async (req, reply) => {
      if (!acceptsJson(req.headers.accept)) {
        const suppressed = acceptWarnings.take();
        if (suppressed !== undefined)
          gateway.ctx.logger.warn(
            { accept: req.headers.accept ?? null, suppressed },
            'connections/open without Accept: application/json: DingTalk may answer XML there (the sandbox answers JSON)',
          );
      }
      const text = typeof req.body === 'string' ? req.body : '';
      const answer = gateway.open(text, req.headers.host);
      const body = answer.body as { requestid?: unknown };
      const requestId = typeof body.requestid === 'string' ? body.requestid : randomUUID().toUpperCase();
      return reply
        .code(answer.status)
        .header('content-type', 'application/json;charset=utf-8')
        .header('x-acs-request-id', requestId)
        .header('x-acs-trace-id', randomBytes(16).toString('hex'))
        .send(answer.body);
    });
  });
  app.server.on('upgrade', (req, socket, head) => {
    const refusal = checkUpgrade?.(req.headers);
    if (refusal !== undefined) {
      socket.on('error', () => socket.destroy());
      rejectUpgrade(socket, refusal.status, { code: refusal.code, message: refusal.message });
      return;
    }
    gateway.handleUpgrade(req, socket, head);
  });
}
