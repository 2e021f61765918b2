import type { FastifyInstance } from 'fastify';
import { parseInput } from '../../control/validate.js';
import type { Platform } from '../platform.js';
import { appParams, lookups, schemas } from './schemas.js';

/** Apps and headless consent: `/sandbox/apps/*`, `/sandbox/oauth/authorize`. */
export function registerAppRoutes(scope: FastifyInstance, platform: Platform): void {
  const { repos } = platform;
  const { appOr404 } = lookups(platform);

  scope.get('/sandbox/apps', async () => ({ apps: repos.apps.list() }));

  scope.get('/sandbox/apps/:clientId', async (request) => ({
    app: appOr404(parseInput(appParams, request.params, 'params').clientId),
  }));

  scope.post('/sandbox/apps', async (request) => {
    const body = parseInput(schemas.app, request.body);
    const app = platform.registerApp({
      clientId: body.clientId,
      clientSecret: body.clientSecret,
      name: body.name,
      ...(body.scopes === undefined ? {} : { scopes: body.scopes }),
      ...(body.redirectUris === undefined ? {} : { redirectUris: body.redirectUris }),
    });
    return { app };
  });

  scope.post('/sandbox/apps/:clientId/redirect-uris', async (request) => {
    const { clientId } = parseInput(appParams, request.params, 'params');
    const { uri } = parseInput(schemas.redirectUri, request.body);
    return { clientId, redirectUris: platform.addRedirectUri(clientId, uri) };
  });

  scope.post('/sandbox/oauth/authorize', async (request) => {
    const body = parseInput(schemas.authorize, request.body);
    const scopes =
      typeof body.scopes === 'string' ? body.scopes.split(/[\s,]+/).filter(Boolean) : body.scopes;
    const result = platform.authorize({
      userId: body.userId,
      clientId: body.clientId,
      scopes,
      ...(body.redirectUri === undefined ? {} : { redirectUri: body.redirectUri }),
      ...(body.state === undefined ? {} : { state: body.state }),
    });
    return { code: result.code, redirect: result.redirect, grant: result.grant };
  });
}
