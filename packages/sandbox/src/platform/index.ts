/**
 * The sandbox's DingTalk platform: data (SQLite), the emulated OpenAPI with DingTalk's user-token
 * rules, the OAuth login/consent pages and the platform's control API. The server creates one
 * with {@link createPlatform} and mounts it with {@link registerPlatform}.
 */
import type { FastifyInstance } from 'fastify';
import { registerCardControl } from '../cards/card-control.js';
import { registerOAuthPages } from '../oauth/routes.js';
import { registerOpenApi } from '../openapi/index.js';
import { registerPlatformControl } from './control/routes.js';
import { Platform, type PlatformOptions } from './platform.js';

/**
 * Opens (or creates) the platform's database, migrates and seeds it. `dbPath` keeps data in a
 * SQLite file across restarts; `ephemeral` (the default without `dbPath`) keeps it in memory.
 * Call `platform.close()` when done.
 */
export function createPlatform(options: PlatformOptions): Platform {
  return new Platform(options);
}

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

export { PlatformError } from './errors.js';
export type { FaultInput, FaultStatus, OpenApiFault } from './faults.js';
export { Lifetime } from './lifetimes.js';
export type { AuthorizeInput, AuthorizeResult, PlatformOptions } from './platform.js';
export { Platform } from './platform.js';
export type {
  AppInput,
  CalendarEvent,
  Grant,
  OwnnessStatus,
  PlatformApp,
  PlatformUser,
  TodoCard,
  TokenStats,
  UserTokenPair,
} from './repos/index.js';
export { describeScope, SCOPE_CATALOG, Scope, type ScopeInfo } from './scopes.js';
export type { PlatformAppSeed } from './seeding.js';
