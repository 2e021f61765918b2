import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../platform/platform.js';
import type { Grant, PlatformApp, PlatformUser } from '../platform/repos/index.js';
import { Scope } from '../platform/scopes.js';
import { Failures, type OpenApiFailure } from './failure.js';

/** The user a user-token call acts for, resolved by {@link requireUserToken}. */
export interface UserCaller {
  user: PlatformUser;
  app: PlatformApp;
  grant: Grant;
}

const callers = new WeakMap<FastifyRequest, UserCaller>();

/** The caller of a route guarded by {@link requireUserToken}. */
export function callerOf(request: FastifyRequest): UserCaller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no user caller resolved for ${request.routeOptions.url}`);
  return caller;
}

/** The API's name for QPS accounting: method + route pattern. */
export function apiKeyOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? ''}`;
}

/** Reads the token header (first value if repeated), trimmed; undefined when absent or blank. */
export function tokenHeader(request: FastifyRequest): string | undefined {
  const raw = request.headers['x-acs-dingtalk-access-token'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

export interface UserTokenRequirement {
  /** The scope the API needs (`snsapi_base`: any active grant). */
  scope: string;
  /** The answer for an app (enterprise) token; default 400 `InvalidAuthentication`. */
  appTokenFailure?: () => OpenApiFailure;
}

/**
 * An `onRequest` hook for user-token APIs, in DingTalk's order: header present (400
 * `AuthenticationFailed.MissingParameter`), token known and unexpired on the sandbox clock (400
 * `InvalidAuthentication`), QPS (403), a user token not an app token, then the grant active and
 * holding the scope, and the app declaring it (403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`
 * with `accessdenieddetail.requiredScopes`). Runs before the body is parsed, as DingTalk's gateway does.
 */
export function requireUserToken(platform: Platform, requirement: UserTokenRequirement) {
  return async function userTokenGuard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = tokenHeader(request);
    if (token === undefined) throw Failures.missingToken();
    const resolved = platform.repos.tokens.resolveAccessToken(token);
    if (!resolved) throw Failures.invalidToken();
    if (!platform.qps.tryAcquire(resolved.clientId, apiKeyOf(request))) throw Failures.qpsLimit();
    if (resolved.kind === 'app')
      throw (
        requirement.appTokenFailure?.() ??
        Failures.invalidToken('该接口需要用户访问凭证 / this API needs a user access token, not an app token')
      );
    const user = platform.repos.users.byUserId(resolved.userId);
    const app = platform.repos.apps.get(resolved.clientId);
    if (!user || !app) throw Failures.invalidToken();
    const grant = platform.repos.grants.get(user.userId, app.clientId);
    if (!grant || grant.revokedAt !== null) throw Failures.permissionDenied(requirement.scope);
    if (requirement.scope !== Scope.SnsapiBase && !hasScope(grant, app, requirement.scope))
      throw Failures.permissionDenied(requirement.scope);
    callers.set(request, { user, app, grant });
  };
}

/** True when the grant holds the scope and the app declares it. */
export function hasScope(grant: Grant, app: PlatformApp, scope: string): boolean {
  return grant.revokedAt === null && grant.scopes.includes(scope) && app.scopes.includes(scope);
}

/** Resolves a `{unionId}` path segment: `me` or the caller's own unionId; anyone else is 403. */
export function requireSelfUnionId(caller: UserCaller, unionId: string): void {
  if (unionId !== 'me' && unionId !== caller.user.unionId) throw Failures.otherUser();
}
