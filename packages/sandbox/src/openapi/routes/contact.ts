import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { openIdFor } from '../../platform/ids.js';
import type { Platform } from '../../platform/platform.js';
import type { PlatformUser } from '../../platform/repos/index.js';
import { Scope } from '../../platform/scopes.js';
import { Failures } from '../failure.js';
import { callerOf, hasScope, requireSelfUnionId, requireUserToken, type UserCaller } from '../guard.js';
import { parseOr400 } from '../validate.js';

/** Absolute URL of the sandbox's generated avatar, on the host the caller used. */
export function avatarUrl(request: FastifyRequest, user: PlatformUser): string {
  if (user.avatarUrl !== '') return user.avatarUrl;
  const host = request.headers.host ?? '127.0.0.1';
  return `${request.protocol}://${host}/sandbox/avatars/${encodeURIComponent(user.userId)}.svg`;
}

function profile(request: FastifyRequest, caller: UserCaller) {
  const { user, app, grant } = caller;
  const body: Record<string, unknown> = {
    nick: user.name,
    avatarUrl: avatarUrl(request, user),
    openId: openIdFor(app.clientId, user.userId),
    unionId: user.unionId,
    email: user.email,
    // The address the user signs in with; the sandbox's users sign in with their work email.
    loginEmail: user.email,
    visitor: false,
  };
  // The mobile number needs its own permission; without it the fields are absent.
  if (hasScope(grant, app, Scope.ContactUserMobile)) {
    body.mobile = user.mobile;
    body.stateCode = user.stateCode;
  }
  return body;
}

/** `{userId}` in the ownness path: `me` or the caller's own userId; anyone else is 403. */
function requireSelfUserId(caller: UserCaller, userId: string): void {
  if (userId !== 'me' && userId !== caller.user.userId) throw Failures.otherUser();
}

const ownnessBody = z
  .object({
    id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]).optional(),
    ownenssType: z.union([z.literal(1), z.literal(3)], {
      message: 'expected 1 (leave) or 3 (business trip)',
    }),
    startTime: z.number().int().nonnegative(),
    endTime: z.number().int().nonnegative(),
    deletedFlag: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
  })
  .refine((b) => b.endTime > b.startTime, { message: 'must be after startTime', path: ['endTime'] });

/** Contact: the current user's profile and personal status (个人状态). */
export function registerContactRoutes(scope: FastifyInstance, platform: Platform): void {
  const read = requireUserToken(platform, { scope: Scope.ContactUserRead });

  scope.get('/v1.0/contact/users/me', { onRequest: read }, async (request) =>
    profile(request, callerOf(request)),
  );

  scope.get<{ Params: { unionId: string } }>(
    '/v1.0/contact/users/:unionId',
    { onRequest: read },
    async (request) => {
      const caller = callerOf(request);
      requireSelfUnionId(caller, request.params.unionId);
      return profile(request, caller);
    },
  );

  scope.put<{ Params: { userId: string } }>(
    '/v1.0/contact/user/:userId/ownness',
    { onRequest: requireUserToken(platform, { scope: Scope.OwnnessWrite }) },
    async (request) => {
      const caller = callerOf(request);
      requireSelfUserId(caller, request.params.userId);
      const body = parseOr400(ownnessBody, request.body);
      const id = body.id === undefined ? undefined : String(body.id);
      const userId = caller.user.userId;
      // The published answer is `{result: string}` (SDK example "123456"): the status record's id.
      if (body.deletedFlag === 1 || body.deletedFlag === true) {
        if (id === undefined) throw Failures.invalidParameter('id: required when deletedFlag is 1');
        const deleted = platform.repos.ownness.delete(userId, id);
        platform.logger.info({ userId, statusId: id, deleted }, 'personal status deleted');
        return { result: id };
      }
      const status = platform.repos.ownness.put(userId, {
        ...(id === undefined ? {} : { id }),
        ownenssType: body.ownenssType,
        startTime: body.startTime,
        endTime: body.endTime,
      });
      platform.logger.info({ userId, statusId: status.id, type: status.ownenssType }, 'personal status set');
      return { result: status.id };
    },
  );
  // DingTalk has no API that reads personal statuses back: the sandbox shows them on the control API
  // (`GET /sandbox/users/{userId}/data`, `statuses`), never under /v1.0/.
}
