import { z } from 'zod';
import { ControlError } from '../../control/errors.js';
import type { Platform } from '../platform.js';
import type { PlatformApp, PlatformUser } from '../repos/index.js';

/** Input schemas of the platform's control routes. */
export const id = z.string().min(1).max(128);
export const userParams = z.object({ userId: id });
export const appParams = z.object({ clientId: id });

export const schemas = {
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

/** Lookups every route file uses: 404 `notFound` naming the field. */
export function lookups(platform: Platform) {
  const { repos } = platform;
  return {
    userOr404(userId: string): PlatformUser {
      const user = repos.users.byUserId(userId);
      if (!user) throw ControlError.notFound(`unknown user ${userId}`, 'userId');
      return user;
    },
    appOr404(clientId: string): PlatformApp {
      const app = repos.apps.get(clientId);
      if (!app) throw ControlError.notFound(`unknown app ${clientId}`, 'clientId');
      return app;
    },
  };
}
