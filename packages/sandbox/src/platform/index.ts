/**
 * The sandbox's DingTalk platform: data (SQLite), the emulated OpenAPI with DingTalk's user-token
 * rules, the OAuth login/consent pages and the platform's control API. The server creates one
 * with {@link createPlatform}; `registerPlatform` (platform-routes.ts) mounts its HTTP routes.
 */
import { Platform, type PlatformOptions } from './platform.js';

/**
 * Opens (or creates) the platform's database, migrates and seeds it. `dbPath` keeps data in a
 * SQLite file across restarts; `ephemeral` (the default without `dbPath`) keeps it in memory.
 * Call `platform.close()` when done.
 */
export function createPlatform(options: PlatformOptions): Platform {
  return new Platform(options);
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
