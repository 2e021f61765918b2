import { timingSafeEqual } from 'node:crypto';
import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { readStringList } from '../json-column.js';

/** An app registered on the platform (an "H5 micro app" with its login redirect URLs). */
export interface PlatformApp {
  clientId: string;
  name: string;
  corpId: string;
  /** Permission codes the app declares (its API permissions in the developer console). */
  scopes: string[];
  /** Registered login redirect URIs (登录与分享), matched exactly. */
  redirectUris: string[];
  createdAt: number;
}

/** Input to register or update an app. */
export interface AppInput {
  clientId: string;
  clientSecret: string;
  name: string;
  corpId: string;
  scopes: readonly string[];
  redirectUris: readonly string[];
}

interface AppRow {
  client_id: string;
  client_secret: string;
  name: string;
  corp_id: string;
  scopes: string;
  created_at: number;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Apps and their redirect URIs. */
export class AppsRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Inserts the app if it is new; never overwrites an existing one (seeding is idempotent). */
  insertIfMissing(app: AppInput): void {
    const now = this.#clock.now();
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO apps (client_id, client_secret, name, corp_id, scopes, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(app.clientId, app.clientSecret, app.name, app.corpId, JSON.stringify(app.scopes), now);
    for (const uri of app.redirectUris) this.addRedirectUri(app.clientId, uri);
  }

  /** Sets an existing app's display name (no-op for an unknown app). */
  rename(clientId: string, name: string): void {
    this.#db.prepare('UPDATE apps SET name = ? WHERE client_id = ?').run(name, clientId);
  }

  /** Registers an app, replacing secret, name and scopes if it exists; redirect URIs are added. */
  upsert(app: AppInput): PlatformApp {
    const now = this.#clock.now();
    this.#db
      .prepare(
        `INSERT INTO apps (client_id, client_secret, name, corp_id, scopes, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET client_secret = excluded.client_secret,
           name = excluded.name, corp_id = excluded.corp_id, scopes = excluded.scopes`,
      )
      .run(app.clientId, app.clientSecret, app.name, app.corpId, JSON.stringify(app.scopes), now);
    for (const uri of app.redirectUris) this.addRedirectUri(app.clientId, uri);
    return this.get(app.clientId)!;
  }

  get(clientId: string): PlatformApp | undefined {
    const row = this.#db.prepare('SELECT * FROM apps WHERE client_id = ?').get(clientId) as
      | AppRow
      | undefined;
    return row ? this.#toApp(row) : undefined;
  }

  list(): PlatformApp[] {
    const rows = this.#db.prepare('SELECT * FROM apps ORDER BY created_at, client_id').all() as AppRow[];
    return rows.map((r) => this.#toApp(r));
  }

  /** The app when `clientSecret` matches (constant-time compare), else undefined. */
  authenticate(clientId: string, clientSecret: string): PlatformApp | undefined {
    const row = this.#db.prepare('SELECT * FROM apps WHERE client_id = ?').get(clientId) as
      | AppRow
      | undefined;
    if (!row || !sameSecret(row.client_secret, clientSecret)) return undefined;
    return this.#toApp(row);
  }

  /** Adds a redirect URI (idempotent). Returns false when the app does not exist. */
  addRedirectUri(clientId: string, uri: string): boolean {
    if (!this.#db.prepare('SELECT 1 FROM apps WHERE client_id = ?').get(clientId)) return false;
    this.#db
      .prepare('INSERT OR IGNORE INTO app_redirect_uris (client_id, uri, created_at) VALUES (?, ?, ?)')
      .run(clientId, uri, this.#clock.now());
    return true;
  }

  #redirectUris(clientId: string): string[] {
    const rows = this.#db
      .prepare('SELECT uri FROM app_redirect_uris WHERE client_id = ? ORDER BY rowid')
      .all(clientId) as Array<{ uri: string }>;
    return rows.map((r) => r.uri);
  }

  #toApp(row: AppRow): PlatformApp {
    return {
      clientId: row.client_id,
      name: row.name,
      corpId: row.corp_id,
      scopes: readStringList(row.scopes),
      redirectUris: this.#redirectUris(row.client_id),
      createdAt: row.created_at,
    };
  }
}
