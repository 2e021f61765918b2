import type { IncomingHttpHeaders } from 'node:http';
import { CONNECTIONS_OPEN_PATH } from '@dingtalk-skills/sdk';
import type { FastifyInstance } from 'fastify';
import { type Gateway, rejectUpgrade } from './gateway.js';

/** Judges a WebSocket handshake's headers before the gateway sees it: a refusal, or undefined to go on. */
export type UpgradeCheck = (
  headers: IncomingHttpHeaders,
) => { status: number; code: string; message: string } | undefined;

/**
 * `POST /v1.0/gateway/connections/open` and the `/connect` WebSocket upgrade. The body is read as
 * raw text (any content type) so bad JSON gets DingTalk's `invalidParameter` envelope, not Fastify's.
 * `checkUpgrade` (the sandbox's admission: Host, Origin) runs before every handshake.
 */
export async function registerGatewayRoutes(
  app: FastifyInstance,
  gateway: Gateway,
  checkUpgrade?: UpgradeCheck,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(CONNECTIONS_OPEN_PATH, async (req, reply) => {
      const text = typeof req.body === 'string' ? req.body : '';
      const answer = gateway.open(text, req.headers.host);
      return reply.code(answer.status).send(answer.body);
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
