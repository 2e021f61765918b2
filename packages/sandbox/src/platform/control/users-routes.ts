import type { FastifyInstance } from 'fastify';
import { ControlError } from '../../control/errors.js';
import { parseInput } from '../../control/validate.js';
import type { Platform } from '../platform.js';
import { lookups, schemas, userParams } from './schemas.js';

/** Users, their data, grants and tokens: `/sandbox/users/*`, `/sandbox/grants`, `/sandbox/stats/tokens`. */
export function registerUserRoutes(scope: FastifyInstance, platform: Platform): void {
  const { repos } = platform;
  const log = platform.logger.child({ component: 'control' });
  const { userOr404, appOr404 } = lookups(platform);

  scope.get('/sandbox/users', async () => ({
    users: repos.users.list().map((u) => ({
      userId: u.userId,
      unionId: u.unionId,
      name: u.name,
      nameEn: u.nameEn,
      email: u.email,
      mobile: u.mobile,
      corpId: u.corpId,
      avatarUrl: u.avatarUrl || `/sandbox/avatars/${encodeURIComponent(u.userId)}.svg`,
    })),
  }));

  scope.get('/sandbox/users/:userId/data', async (request) => {
    const user = userOr404(parseInput(userParams, request.params, 'params').userId);
    return {
      user,
      todos: repos.todos.listFor(user.unionId, { offset: 0, limit: 1000 }).items,
      events: repos.events.listFor(user.unionId, { offset: 0, limit: 1000 }).items,
      statuses: repos.ownness.list(user.userId),
      grants: repos.grants.list({ userId: user.userId }),
    };
  });

  scope.get('/sandbox/grants', async (request) => {
    const q = parseInput(schemas.grantsQuery, request.query, 'query');
    return { grants: repos.grants.list(q) };
  });

  scope.post('/sandbox/users/:userId/expire-token', async (request) => {
    const user = userOr404(parseInput(userParams, request.params, 'params').userId);
    const body = parseInput(schemas.expireToken, request.body);
    if (body.clientId !== undefined) appOr404(body.clientId);
    const expired = repos.tokens.expireUserAccessTokens(user.userId, body.clientId);
    if (body.includeRefresh !== true) {
      log.info(
        { userId: user.userId, clientId: body.clientId, expired },
        'access tokens expired by control API',
      );
      return { expired };
    }
    // As if the refresh tokens' 30 days had passed: the app cannot refresh and must ask for consent.
    const refreshExpired = repos.tokens.expireUserRefreshTokens(user.userId, body.clientId);
    log.info(
      { userId: user.userId, clientId: body.clientId, expired, refreshExpired },
      'access and refresh tokens expired by control API',
    );
    return { expired, refreshExpired };
  });

  scope.post('/sandbox/users/:userId/revoke', async (request) => {
    const user = userOr404(parseInput(userParams, request.params, 'params').userId);
    const body = parseInput(schemas.revoke, request.body);
    appOr404(body.clientId);
    const grant = repos.grants.revoke(user.userId, body.clientId);
    if (!grant)
      throw ControlError.notFound(`user ${user.userId} has no grant for ${body.clientId}`, 'clientId');
    log.info({ userId: user.userId, clientId: body.clientId }, 'grant revoked by control API');
    return { grant };
  });

  scope.post('/sandbox/users/:userId/remove-scope', async (request) => {
    const user = userOr404(parseInput(userParams, request.params, 'params').userId);
    const body = parseInput(schemas.removeScope, request.body);
    appOr404(body.clientId);
    const grant = repos.grants.removeScope(user.userId, body.clientId, body.scope);
    if (!grant)
      throw ControlError.notFound(`user ${user.userId} has no grant for ${body.clientId}`, 'clientId');
    log.info(
      { userId: user.userId, clientId: body.clientId, scope: body.scope },
      'scope removed by control API',
    );
    return { grant };
  });

  scope.get('/sandbox/stats/tokens', async (request) =>
    repos.stats.read(parseInput(schemas.statsQuery, request.query, 'query')),
  );
}
