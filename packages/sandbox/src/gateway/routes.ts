import { CONNECTIONS_OPEN_PATH } from '@dingtalk-skills/sdk';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from './gateway.js';

/**
 * `POST /v1.0/gateway/connections/open` and the `/connect` WebSocket upgrade. The body is read as
 * raw text (any content type) so bad JSON gets DingTalk's `invalidParameter` envelope, not Fastify's.
 */
export async function registerGatewayRoutes(app: FastifyInstance, gateway: Gateway): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(CONNECTIONS_OPEN_PATH, async (req, reply) => {
      const text = typeof req.body === 'string' ? req.body : '';
      const answer = gateway.open(text, req.headers.host);
      return reply.code(answer.status).send(answer.body);
    });
  });
  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
}
