import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Platform } from '../../platform/platform.js';
import type { PlatformApp } from '../../platform/repos/index.js';
import { Scope } from '../../platform/scopes.js';
import { Failures, OpenApiFailure } from '../failure.js';
import { apiKeyOf, callerOf, requireUserToken } from '../guard.js';
import { parseOr400 } from '../validate.js';

/** Token endpoints read fields one by one (`Missing<field>`), so the body only has to be an object. */
const objectBody = z.record(z.string(), z.unknown(), { message: 'expected a JSON object' });

/** A required non-empty string field, else DingTalk's `Missing<field>` 400. */
function required(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') throw Failures.missing(field);
  return value;
}

function authenticateApp(
  platform: Platform,
  request: FastifyRequest,
  clientId: string,
  secret: string,
): PlatformApp {
  const app = platform.repos.apps.authenticate(clientId, secret);
  if (!app) throw Failures.invalidClient();
  if (!platform.qps.tryAcquire(app.clientId, apiKeyOf(request))) throw Failures.qpsLimit();
  return app;
}

/** `/v1.0/oauth2/*`: app tokens, user tokens (code exchange and refresh), granted scopes. */
export function registerOAuth2Routes(scope: FastifyInstance, platform: Platform): void {
  const log = platform.logger.child({ api: 'oauth2' });

  scope.post('/v1.0/oauth2/accessToken', async (request) => {
    const body = parseOr400(objectBody, request.body);
    const appKey = required(body, 'appKey');
    const appSecret = required(body, 'appSecret');
    const app = authenticateApp(platform, request, appKey, appSecret);
    const token = platform.repos.tokens.issueAppToken(app.clientId);
    log.debug({ clientId: app.clientId }, 'app token issued');
    return { accessToken: token.accessToken, expireIn: token.expireIn };
  });

  scope.post('/v1.0/oauth2/userAccessToken', async (request) => {
    const body = parseOr400(objectBody, request.body);
    const clientId = required(body, 'clientId');
    const clientSecret = required(body, 'clientSecret');
    const grantType = required(body, 'grantType');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
      throw Failures.invalidParameter('grantType: expected authorization_code or refresh_token');
    const app = authenticateApp(platform, request, clientId, clientSecret);
    const stats = platform.repos.stats;

    // Both grants: find whose the presented credential is, check that user's grant still stands, then
    // issue a fresh pair (a refresh rotates: the old refresh token is spent).
    const byCode = grantType === 'authorization_code';
    const holder = byCode
      ? codeHolder(platform.repos.codes.consume(required(body, 'code'), app.clientId))
      : refreshHolder(platform.repos.tokens.spendRefreshToken(required(body, 'refreshToken'), app.clientId));
    const grant =
      holder.valid && holder.userId !== undefined
        ? platform.repos.grants.get(holder.userId, app.clientId)
        : undefined;
    if (!grant || grant.revokedAt !== null) {
      stats.count(app.clientId, holder.userId ?? '', grantType, 'failed');
      log.info(
        { clientId: app.clientId },
        byCode
          ? 'code exchange refused: unknown, used or expired code'
          : 'refresh refused: unknown, rotated, expired or revoked',
      );
      throw byCode
        ? new OpenApiFailure(
            400,
            OpenApiErrorCode.AuthCodeNotFound,
            '不合法的临时授权码 (authCode not found: unknown, already used or expired)',
          )
        : new OpenApiFailure(
            400,
            OpenApiErrorCode.RefreshTokenNotFound,
            '不合法的refresh_token (refreshToken not found: unknown, already used, expired or revoked)',
          );
    }
    const { userId } = grant;
    // A refresh within the access token's validity answers that same token, renewed (DingTalk's help:
    // a repeated fetch within validity returns the same token); the refresh token always rotates.
    const pair = platform.repos.tokens.issueUserTokens(userId, app.clientId, holder.pairedAccess);
    stats.count(app.clientId, userId, grantType, 'ok');
    log.info(
      { clientId: app.clientId, userId, renewed: pair.renewed },
      byCode
        ? 'code exchanged for user token'
        : pair.renewed
          ? 'user token refreshed: same access token, validity renewed (refresh token rotated)'
          : 'user token refreshed: new access token (refresh token rotated)',
    );
    return {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expireIn: pair.expireIn,
      corpId: app.corpId,
    };
  });

  scope.get(
    '/v1.0/oauth2/authRules/user',
    { onRequest: requireUserToken(platform, { scope: Scope.SnsapiBase }) },
    async (request) => {
      const { grant } = callerOf(request);
      const authItems = grant.scopes.filter((s) => s !== Scope.OpenId && s !== Scope.CorpId);
      return { result: [{ resource: 'rpc_auth', authItems }] };
    },
  );
}

/** Whose a presented code or refresh token is (when known), and whether it was good. */
interface Holder {
  userId: string | undefined;
  valid: boolean;
  /** The access token a refresh token was issued with (to renew it while still valid). */
  pairedAccess?: string;
}

function codeHolder(record: { userId: string } | undefined): Holder {
  return { userId: record?.userId, valid: record !== undefined };
}

/** A spent or expired refresh token still names its user (the stats count the failure for them). */
function refreshHolder(spent: { ok: boolean; userId: string | undefined; pairedAccess?: string }): Holder {
  return {
    userId: spent.userId,
    valid: spent.ok,
    ...(spent.pairedAccess ? { pairedAccess: spent.pairedAccess } : {}),
  };
}
