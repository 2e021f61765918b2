/**
 * Mounts the platform's HTTP routes: the emulated OpenAPI, the OAuth login/consent pages, and the
 * platform's and cards' control routes. Here, beside server.ts, rather than in platform/: the platform
 * (data, rules, clock) knows nothing of the HTTP layers built on it.
 */
import type { FastifyInstance } from 'fastify';
import { registerCardControl } from './cards/card-control.js';
import { registerOAuthPages } from './oauth/routes.js';
import { registerOpenApi } from './openapi/index.js';
import { registerPlatformControl } from './platform/control/routes.js';
import type { Platform } from './platform/platform.js';

/**
 * Registers every platform route on a Fastify instance, each group in its own encapsulated scope
 * (own parsers and error handler; nothing leaks to the server's other routes):
 * `/v1.0/*` and `/gettoken` (OpenAPI), `/oauth2/auth` and `/oauth2/auth/decide` (login/consent),
 * `/sandbox/avatars/*`, and the platform's control API under `/sandbox/`.
 */
export async function registerPlatform(app: FastifyInstance, platform: Platform): Promise<void> {
  await app.register(async (scope) => registerOpenApi(scope, platform));
  await app.register(async (scope) => registerOAuthPages(scope, platform));
  await app.register(async (scope) => registerPlatformControl(scope, platform));
  await app.register(async (scope) => registerCardControl(scope, platform));
}
