import { createHash } from 'node:crypto';
import type { SandboxContext } from '../context.js';
import type { Platform } from '../platform/platform.js';
import { describeScope } from '../platform/scopes.js';
import { SEED_JOB_NUMBERS } from '../seed.js';
import type { AssistantUser, AuthorizationPort, ConsentRequest, Directory } from './ports.js';

/** The path of the assistant's OAuth callback (its "https://baymax.dingtalk.com/oauth2"). */
export const ASSISTANT_CALLBACK_PATH = '/sandbox/assistant/oauth2';

/** A user's job number (工号): the seed's, else six digits derived from the userId (stable). */
export function jobNumberOf(userId: string): string {
  const seeded = SEED_JOB_NUMBERS[userId];
  if (seeded !== undefined) return seeded;
  const n = createHash('sha256').update(userId).digest().readUInt32BE(0) % 1_000_000;
  return `SB${String(n).padStart(6, '0')}`;
}

/** Users and apps, read from the platform's data. */
export function platformDirectory(platform: Platform): Directory {
  const toUser = (u: { userId: string; unionId: string; corpId: string; name: string; nameEn: string }) =>
    ({
      userId: u.userId,
      unionId: u.unionId,
      corpId: u.corpId,
      name: u.name,
      nameEn: u.nameEn,
      jobNum: jobNumberOf(u.userId),
    }) satisfies AssistantUser;
  return {
    user: (userId) => {
      const u = platform.repos.users.byUserId(userId);
      return u ? toUser(u) : undefined;
    },
    users: () => platform.repos.users.list().map(toUser),
    appName: (clientId) => platform.repos.apps.get(clientId)?.name,
  };
}

/** Grants, the consent page URL and headless consent, from the platform. */
export function platformAuthorization(platform: Platform, ctx: SandboxContext): AuthorizationPort {
  return {
    grantedScopes(userId, clientId) {
      const grant = platform.repos.grants.get(userId, clientId);
      return grant && grant.revokedAt === null ? grant.scopes : undefined;
    },
    consentUrl(request: ConsentRequest) {
      const query = new URLSearchParams({
        redirect_uri: request.redirectUri,
        response_type: 'code',
        client_id: request.clientId,
        scope: request.scopes.join(' '),
        state: request.state,
        prompt: 'consent',
        // The sandbox's consent page offers every seed user; this preselects the one talking.
        login_hint: request.userId,
      });
      return `${ctx.url()}/oauth2/auth?${query.toString()}`;
    },
    codeOwner(code, clientId) {
      return platform.repos.codes.peek(code, clientId)?.userId;
    },
    authorizeHeadless(request: ConsentRequest) {
      const result = platform.authorize({
        userId: request.userId,
        clientId: request.clientId,
        scopes: request.scopes,
        redirectUri: request.redirectUri,
        state: request.state,
      });
      return { code: result.code, scopes: result.grant.scopes };
    },
    pluginAccessToken(userId, clientId, code) {
      if (code !== undefined) {
        const redeemed = platform.repos.codes.consume(code, clientId);
        if (redeemed === undefined || redeemed.userId !== userId) return undefined;
      }
      const grant = platform.repos.grants.get(userId, clientId);
      if (!grant || grant.revokedAt !== null) return undefined;
      return platform.issueUserTokens(userId, clientId).accessToken;
    },
    ensureRedirectUri(clientId, uri) {
      const app = platform.repos.apps.get(clientId);
      if (app && !app.redirectUris.includes(uri)) platform.addRedirectUri(clientId, uri);
    },
    describeScope,
  };
}
