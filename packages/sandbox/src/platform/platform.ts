import { type Logger, silentLogger } from '@dingtalk-skills/sdk';
import { z } from 'zod';
import type { SandboxClock } from '../clock.js';
import { PendingConsents } from '../oauth/pending.js';
import { openPlatformDb, type PlatformDb } from './db/open.js';
import { DATA_TABLES } from './db/schema.js';
import { PlatformError } from './errors.js';
import { OpenApiFaults } from './faults.js';
import { QpsLimiter } from './qps.js';
import { isAbsoluteUri, withQuery } from './redirect.js';
import {
  createRepos,
  type Grant,
  type PlatformApp,
  type PlatformRepos,
  type UserTokenPair,
} from './repos/index.js';
import { expandGrantedScopes, SCOPE_CODE_PATTERN } from './scopes.js';
import { completeApp, type PlatformAppSeed, type SeedExtras, seedPlatform } from './seeding.js';

/** Options of {@link createPlatform}. */
export interface PlatformOptions {
  /** The sandbox clock; every expiry is judged by `clock.now()`. */
  clock: SandboxClock;
  /** SQLite file to keep the platform's data in (created if missing, reopened if present). */
  dbPath?: string;
  /** Keep everything in memory (nothing is written to disk). The default when `dbPath` is absent. */
  ephemeral?: boolean;
  logger?: Logger;
  /** Calls per app per API per second before `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`; 0 = off (default). */
  qpsLimit?: number;
  /** Extra redirect URIs registered for the seed app, kept across resets (e.g. the assistant's callback). */
  seedAppRedirectUris?: string[];
  /**
   * Apps present after every seed and reset, besides the seed app (missing fields get defaults; an
   * entry for the seed app's clientId adds its redirect URIs). A sandbox server passes its `apps`.
   */
  apps?: PlatformAppSeed[];
}

const optionsSchema = z
  .object({
    dbPath: z.string().min(1).optional(),
    ephemeral: z.boolean().optional(),
    qpsLimit: z.number().int().min(0).optional(),
    seedAppRedirectUris: z.array(z.string().refine(isAbsoluteUri, 'must be an absolute URI')).optional(),
  })
  .refine((o) => !(o.ephemeral && o.dbPath !== undefined), {
    message: 'ephemeral and dbPath exclude each other',
    path: ['ephemeral'],
  });

/** Input of {@link Platform.authorize}: a user consents to scopes for an app, without the page. */
export interface AuthorizeInput {
  userId: string;
  clientId: string;
  /** Scope codes as a login URL would carry them (`openid` also grants `Contact.User.Read`). */
  scopes: readonly string[];
  /** Must be registered for the app; defaults to the app's first registered URI. */
  redirectUri?: string;
  state?: string;
}

export interface AuthorizeResult {
  /** The authorization code (single use, 5 minutes). */
  code: string;
  /** Where the browser would be sent: `redirectUri?code=X&authCode=X&state=S`. */
  redirect: string;
  grant: Grant;
}

/**
 * The sandbox's DingTalk platform: apps, users, grants, codes and tokens in SQLite, plus the
 * runtime knobs (QPS limit, injected faults, pending consent pages). HTTP lives in `registerPlatform` (platform-routes.ts).
 */
export class Platform {
  readonly clock: SandboxClock;
  readonly logger: Logger;
  readonly repos: PlatformRepos;
  readonly qps: QpsLimiter;
  readonly faults = new OpenApiFaults();
  readonly consents: PendingConsents;
  /** The SQLite file, or undefined when the platform is in memory. */
  readonly dbPath: string | undefined;
  readonly #db: PlatformDb;
  readonly #extras: SeedExtras;
  #closed = false;

  constructor(options: PlatformOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PlatformError('invalid', `createPlatform: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'platform' });
    this.dbPath = options.ephemeral ? undefined : options.dbPath;
    this.#db = openPlatformDb(this.dbPath);
    this.repos = createRepos(this.#db, this.clock);
    this.qps = new QpsLimiter(options.qpsLimit ?? 0);
    this.consents = new PendingConsents(this.clock);
    this.#extras = { seedAppRedirectUris: options.seedAppRedirectUris ?? [], apps: options.apps ?? [] };
    this.#db.transaction(() => seedPlatform(this.repos, this.clock, this.#extras))();
    this.logger.info({ storage: this.dbPath ?? ':memory:' }, 'platform ready');
  }

  /**
   * Records the user's consent (union with an active grant) and issues a single-use code, as the
   * consent page's "Approve" does. Throws {@link PlatformError} for an unknown user/app or a
   * redirect URI the app did not register.
   */
  authorize(input: AuthorizeInput): AuthorizeResult {
    const user = this.repos.users.byUserId(input.userId);
    if (!user) throw new PlatformError('not_found', `unknown user ${input.userId}`, 'userId');
    const app = this.repos.apps.get(input.clientId);
    if (!app) throw new PlatformError('not_found', `unknown app ${input.clientId}`, 'clientId');
    const redirectUri = input.redirectUri ?? app.redirectUris[0];
    if (redirectUri === undefined)
      throw new PlatformError('invalid', `app ${app.clientId} has no registered redirect URI`, 'redirectUri');
    if (!app.redirectUris.includes(redirectUri))
      throw new PlatformError(
        'invalid',
        `redirect URI is not registered for app ${app.clientId}`,
        'redirectUri',
      );
    const bad = input.scopes.find((s) => !SCOPE_CODE_PATTERN.test(s));
    if (bad !== undefined) throw new PlatformError('invalid', `not a scope code: ${bad}`, 'scopes');
    const granted = expandGrantedScopes(input.scopes);
    const grant = this.repos.grants.consent(user.userId, app.clientId, granted);
    const code = this.repos.codes.issue({
      clientId: app.clientId,
      userId: user.userId,
      scopes: granted,
      redirectUri,
    });
    this.logger.info(
      { userId: user.userId, clientId: app.clientId, scopes: grant.scopes },
      'consent recorded',
    );
    const redirect = withQuery(redirectUri, { code, authCode: code, state: input.state });
    return { code, redirect, grant };
  }

  /**
   * Issues a user token pair for an active grant without a code exchange: what the assistant puts
   * in an AI plugin callback's `data.accessToken`. Throws when the user has no active grant for the app.
   */
  issueUserTokens(userId: string, clientId: string): UserTokenPair {
    const grant = this.repos.grants.get(userId, clientId);
    if (!grant || grant.revokedAt !== null)
      throw new PlatformError(
        'not_found',
        `user ${userId} has no active grant for app ${clientId}`,
        'userId',
      );
    return this.repos.tokens.issueUserTokens(userId, clientId);
  }

  /** Registers an app (or updates it) until the next reset; defaults as for {@link PlatformOptions.apps}. */
  registerApp(seed: PlatformAppSeed): PlatformApp {
    const app = completeApp(seed);
    for (const uri of app.redirectUris)
      if (!isAbsoluteUri(uri))
        throw new PlatformError('invalid', `not an absolute URI: ${uri}`, 'redirectUris');
    return this.repos.apps.upsert(app);
  }

  /** Adds a login redirect URI to an app. */
  addRedirectUri(clientId: string, uri: string): string[] {
    if (!isAbsoluteUri(uri)) throw new PlatformError('invalid', `not an absolute URI: ${uri}`, 'uri');
    if (!this.repos.apps.addRedirectUri(clientId, uri))
      throw new PlatformError('not_found', `unknown app ${clientId}`, 'clientId');
    return this.repos.apps.get(clientId)!.redirectUris;
  }

  /** Puts all platform data back to the seed; clears faults, QPS windows and open consent pages. */
  reset(): void {
    this.#db.transaction(() => {
      for (const table of DATA_TABLES) this.#db.prepare(`DELETE FROM ${table}`).run();
      seedPlatform(this.repos, this.clock, this.#extras);
    })();
    this.faults.clear();
    this.qps.clear();
    this.consents.clear();
    this.logger.info({}, 'platform reset to seed');
  }

  /** Closes the database. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
