/**
 * The platform's SQLite schema. Each entry is one migration; `PRAGMA user_version` records how many
 * have run. Statements use IF NOT EXISTS so a half-applied migration can run again.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS corps (
    corp_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY,
    client_secret TEXT NOT NULL,
    name TEXT NOT NULL,
    corp_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS app_redirect_uris (
    client_id TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, uri)
  );
  CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    union_id TEXT NOT NULL UNIQUE,
    corp_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    mobile TEXT NOT NULL,
    state_code TEXT NOT NULL,
    email TEXT NOT NULL,
    avatar_url TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS grants (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (user_id, client_id)
  );
  CREATE TABLE IF NOT EXISTS auth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS auth_codes_expires ON auth_codes (expires_at);
  CREATE TABLE IF NOT EXISTS user_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS user_tokens_owner ON user_tokens (user_id, client_id, kind);
  CREATE INDEX IF NOT EXISTS user_tokens_expires ON user_tokens (expires_at);
  CREATE TABLE IF NOT EXISTS app_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS app_tokens_expires ON app_tokens (expires_at);
  CREATE TABLE IF NOT EXISTS token_stats (
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    count INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id, grant_type, outcome)
  );
  CREATE TABLE IF NOT EXISTS todos (
    task_id TEXT PRIMARY KEY,
    creator_union_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    due_time INTEGER,
    is_done INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    executor_ids TEXT NOT NULL,
    participant_ids TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    modified_time INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS todo_members (
    task_id TEXT NOT NULL REFERENCES todos(task_id) ON DELETE CASCADE,
    union_id TEXT NOT NULL,
    PRIMARY KEY (task_id, union_id)
  );
  CREATE INDEX IF NOT EXISTS todo_members_union ON todo_members (union_id);
  CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    organizer_union_id TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS event_members (
    event_id TEXT NOT NULL REFERENCES events(event_id) ON DELETE CASCADE,
    union_id TEXT NOT NULL,
    PRIMARY KEY (event_id, union_id)
  );
  CREATE INDEX IF NOT EXISTS event_members_union ON event_members (union_id);
  CREATE TABLE IF NOT EXISTS ownness (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    ownness_type INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
  );
  `,
  // A refresh token row keeps the access token it was issued with, sealed with the refresh token
  // itself (never in clear): a refresh within the access token's validity renews that same token.
  `
  ALTER TABLE user_tokens ADD COLUMN paired_access TEXT;
  `,
];

/** Tables emptied by a reset, children first. */
export const DATA_TABLES: readonly string[] = [
  'todo_members',
  'todos',
  'event_members',
  'events',
  'ownness',
  'token_stats',
  'app_tokens',
  'user_tokens',
  'auth_codes',
  'grants',
  'app_redirect_uris',
  'apps',
  'users',
  'corps',
];
