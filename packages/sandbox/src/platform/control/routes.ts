import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ControlError, controlErrorHandler } from '../../control/errors.js';
import { parseInput } from '../../control/validate.js';
import { useLenientJson } from '../json-body.js';
import type { Platform } from '../platform.js';
import type { PlatformUser } from '../repos/index.js';

const id = z.string().min(1).max(128);
const userParams = z.object({ userId: id });
const appParams = z.object({ clientId: id });

const schemas = {
  grantsQuery: z.object({ userId: id.optional(), clientId: id.optional() }),
  expireToken: z.object({ clientId: id.optional(), includeRefresh: z.boolean().optional() }),
  revoke: z.object({ clientId: id }),
  removeScope: z.object({ clientId: id, scope: id }),
  advance: z.object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(10 * 365 * 86_400_000),
  }),
  statsQuery: z.object({ userId: id.optional(), clientId: id.optional() }),
  redirectUri: z.object({ uri: z.string().min(1).max(2048) }),
  app: z.object({
    clientId: id,
    clientSecret: z.string().min(1).max(256),
    name: z.string().min(1).max(256).optional(),
    scopes: z.array(id).max(100).optional(),
    redirectUris: z.array(z.string().min(1).max(2048)).max(50).optional(),
  }),
  authorize: z.object({
    userId: id,
    clientId: id,
    scopes: z.union([z.array(id).min(1), z.string().min(1)]),
    redirectUri: z.string().min(1).max(2048).optional(),
    state: z.string().max(1024).optional(),
  }),
  fault: z.object({
    path: z.string().min(1).max(512).optional(),
    mode: z.enum(['none', 'delay', 'status']),
    delayMs: z.number().int().min(0).max(60_000).optional(),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
    code: z.string().min(1).max(128).optional(),
    times: z.number().int().min(1).optional(),
  }),
  limits: z.object({ qpsLimit: z.number().int().min(0).max(100_000) }),
};

/**
 * The platform's control API under `/sandbox/` (JSON; 400 `{code: 'invalidParameter', message,
 * field}` naming the field; 404 `notFound` for unknown users and apps), answered by the one control
 * API error handler. See the sandbox README, "Platform control API".
 */
export async function registerPlatformControl(scope: FastifyInstance, platform: Platform): Promise<void> {
  const { repos } = platform;
  const log = platform.logger.child({ component: 'control' });

  const userOr404 = (userId: string): PlatformUser => {
    const user = repos.users.byUserId(userId);
    if (!user) throw ControlError.notFound(`unknown user ${userId}`, 'userId');
    return user;
  };
  const appOr404 = (clientId: string) => {
    const app = repos.apps.get(clientId);
    if (!app) throw ControlError.notFound(`unknown app ${clientId}`, 'clientId');
    return app;
  };

  useLenientJson(scope, (message) => ControlError.invalid(message, 'body'));

  scope.setErrorHandler(controlErrorHandler(log));

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

  scope.get('/sandbox/clock', async () => ({
    now: platform.clock.now(),
    offsetMs: platform.clock.offsetMs,
  }));
  scope.post('/sandbox/clock/advance', async (request) => {
    const { ms } = parseInput(schemas.advance, request.body);
    const now = platform.clock.advance(ms);
    log.info({ ms, offsetMs: platform.clock.offsetMs }, 'sandbox clock advanced');
    return { now, offsetMs: platform.clock.offsetMs };
  });
  scope.get('/sandbox/apps', async () => ({ apps: repos.apps.list() }));

  scope.get('/sandbox/stats/tokens', async (request) =>
    repos.stats.read(parseInput(schemas.statsQuery, request.query, 'query')),
  );

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

  scope.get('/sandbox/faults/openapi', async () => ({ faults: platform.faults.list() }));

  scope.post('/sandbox/faults/openapi', async (request) => {
    const body = parseInput(schemas.fault, request.body);
    if (body.mode === 'status' && body.status === undefined)
      throw ControlError.invalid('status: required when mode is status', 'status');
    const faults = platform.faults.apply({
      mode: body.mode,
      ...(body.path === undefined ? {} : { path: body.path }),
      ...(body.delayMs === undefined ? {} : { delayMs: body.delayMs }),
      ...(body.status === undefined ? {} : { status: body.status }),
      ...(body.code === undefined ? {} : { code: body.code }),
      ...(body.times === undefined ? {} : { times: body.times }),
    });
    log.info({ mode: body.mode, path: body.path ?? '*' }, 'OpenAPI fault rules changed');
    return { faults };
  });

  scope.get('/sandbox/limits/openapi', async () => ({ qpsLimit: platform.qps.limit }));

  scope.post('/sandbox/limits/openapi', async (request) => {
    const { qpsLimit } = parseInput(schemas.limits, request.body);
    platform.qps.limit = qpsLimit;
    return { qpsLimit };
  });

  scope.post('/sandbox/reset', async () => {
    platform.reset();
    return { reset: true, now: platform.clock.now() };
  });
}
