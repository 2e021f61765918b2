/**
 * `dingtalk-skills dev examples/crm` (the built CLI, as `npm start` runs it) at LOG_LEVEL=trace with a
 * chosen state store, driven through the whole authorization flow over HTTP, so the security tests can
 * scan everything it printed and everything it stored. The flow collects every secret it sees on the
 * way (auth codes, tokens), and `storedTokens` reads back the tokens the app keeps (decrypting them with
 * the key the test gave it).
 */
import { createHash } from 'node:crypto';
import { createSharedState, silentLogger } from '@dingtalk-skills/sdk';
import Database from 'better-sqlite3';
import { ASSISTANT_PAGE, BIN, ROOT, requireBuiltCli } from '../../e2e/dev-process.js';
import { spawnNode } from '../../support/child-process.js';

export const CLIENT_ID = 'dingsandboxapp001';
export const CLIENT_SECRET = 'sandbox-secret';
/** The key the app's token store encrypts with (DINGTALK_TOKEN_KEY). */
export const TOKEN_KEY = 'c2VjdXJpdHktdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=';

export interface TracedDev {
  url: string;
  /** The log: every line the process wrote to stderr (JSON lines). */
  logLines(): string[];
  /** What it printed for the user on stdout (the banner). */
  stdoutLines(): string[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the dev command with LOG_LEVEL=trace, the sandbox's SQLite at `dbPath` and `state` as DINGTALK_STATE. */
export async function startTracedDev(dbPath: string, state: string): Promise<TracedDev> {
  requireBuiltCli();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'DINGTALK_CLIENT_ID',
    'DINGTALK_CLIENT_SECRET',
    'DINGTALK_API_BASE',
    'DINGTALK_SANDBOX_PORT',
  ])
    delete env[name];
  Object.assign(env, { LOG_LEVEL: 'trace', DINGTALK_STATE: state, DINGTALK_TOKEN_KEY: TOKEN_KEY });
  const dev = spawnNode([BIN, 'dev', 'examples/crm', '--port', '0', '--db', dbPath], { cwd: ROOT, env });
  const url = await dev.waitForOutput(ASSISTANT_PAGE, 30_000, 'dev');
  return {
    url,
    logLines: () =>
      dev
        .stderr()
        .split('\n')
        .filter((l) => l !== ''),
    stdoutLines: () =>
      dev
        .stdout()
        .split('\n')
        .filter((l) => l !== ''),
    stop: () => dev.stop(15_000),
  };
}

/** Secrets the flow saw, by kind (each value is what would have to be kept out of logs and storage). */
export interface SeenSecrets {
  authCodes: string[];
  accessTokens: string[];
  refreshTokens: string[];
  appTokens: string[];
}

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * The whole flow, through the sandbox's HTTP API and pages: a platform-triggered card answered on the
 * consent page, headless consent, a silent refresh, a skill-triggered card after the refresh token
 * expired, a legacy plugin call with the user's token, a Graph call with a token in the body, a token
 * refresh by hand, an app token, a revoked grant (the example app subscribes to no EVENTs).
 */
export async function runWholeFlow(url: string): Promise<SeenSecrets> {
  const seen: SeenSecrets = { authCodes: [], accessTokens: [], refreshTokens: [], appTokens: [] };
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const invoke = async (
    operationId: string,
    userId: string,
    params: Record<string, unknown>,
    autoConsent: boolean,
  ) =>
    json(
      await post('/sandbox/assistant/invoke', { operationId, userId, params, autoConsent }),
      `invoke ${operationId}`,
    );

  // 1. A platform-triggered card, answered on the consent page (HTML form, 302 back to the assistant).
  const card = await invoke('createTodo', 'zhangsan', { subject: '安全测试 security' }, false);
  if (card.status !== 'awaiting_consent') throw new Error(`expected a card: ${JSON.stringify(card)}`);
  const consentUrl = new URL(String(card.consentUrl), url).toString();
  const page = await (await fetch(consentUrl)).text();
  const nonce = /name="nonce" value="([^"]+)"/.exec(page)?.[1];
  if (!nonce) throw new Error('no nonce on the consent page');
  const decided = await fetch(`${url}/oauth2/auth/decide`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ nonce, decision: 'approve', userId: 'zhangsan' }).toString(),
  });
  const callback = decided.headers.get('location');
  if (decided.status !== 302 || !callback) throw new Error(`consent did not redirect: ${decided.status}`);
  const code = new URL(callback, url).searchParams.get('code');
  if (code) seen.authCodes.push(code);
  const back = await fetch(new URL(callback, url), { redirect: 'manual' });
  if (back.status !== 302)
    throw new Error(`the assistant callback answered ${back.status}: ${await back.text()}`);

  // 2. Headless consent for another skill, 3. a silent refresh, 4. a skill-triggered card.
  await invoke('whoami', 'zhangsan', {}, true);
  await json(await post('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID }), 'expire');
  await invoke('whoami', 'zhangsan', {}, true);
  await json(
    await post('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID, includeRefresh: true }),
    'expire all',
  );
  const again = await invoke('createTodo', 'zhangsan', { subject: 'after expiry' }, true);
  if (again.status !== 'done') throw new Error(`expected done: ${JSON.stringify(again)}`);

  // 5. The assistant's side of a legacy plugin: a code exchanged for the user's token, put in data.
  const authorized = await json(
    await post('/sandbox/oauth/authorize', {
      userId: 'lisi',
      clientId: CLIENT_ID,
      scopes: ['openid', 'Todo.PersonalTodo.Write'],
    }),
    'authorize',
  );
  seen.authCodes.push(String(authorized.code));
  const pair = await json(
    await post('/v1.0/oauth2/userAccessToken', {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      code: authorized.code,
      grantType: 'authorization_code',
    }),
    'code exchange',
  );
  seen.accessTokens.push(String(pair.accessToken));
  seen.refreshTokens.push(String(pair.refreshToken));
  const plugin = await json(
    await post('/sandbox/callbacks', {
      topic: '/v1.0/agi/plugins/callback',
      data: {
        abilityKey: 'addCustomer',
        data: { customName: '客户', owner: 'lisi', ambition: '高', accessToken: pair.accessToken },
        pluginId: 'p',
        pluginVersion: '1.0.0',
        requestId: 'sec-plugin',
      },
    }),
    'plugin callback',
  );
  if (plugin.status !== 'answered') throw new Error(`plugin callback: ${JSON.stringify(plugin)}`);

  // 6. A refresh by hand (rotates the refresh token), 7. a Graph call with the token in the body.
  const refreshed = await json(
    await post('/v1.0/oauth2/userAccessToken', {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshToken: pair.refreshToken,
      grantType: 'refresh_token',
    }),
    'refresh',
  );
  seen.accessTokens.push(String(refreshed.accessToken));
  seen.refreshTokens.push(String(refreshed.refreshToken));
  await json(
    await post('/sandbox/callbacks', {
      topic: '/v1.0/graph/api/invoke',
      data: {
        requestLine: {
          method: 'POST',
          uri: '/v1/actions/crm/todos?userId=lisi&unionId=union-lisi&corpId=dingsandboxcorp',
        },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 'token in the body', accessToken: refreshed.accessToken }),
      },
    }),
    'graph callback',
  );

  // 8. An app token, 9. a revoked grant (the next call is a card).
  const app = await json(
    await post('/v1.0/oauth2/accessToken', { appKey: CLIENT_ID, appSecret: CLIENT_SECRET }),
    'app token',
  );
  seen.appTokens.push(String(app.accessToken));
  await json(await post('/sandbox/users/zhangsan/revoke', { clientId: CLIENT_ID }), 'revoke');
  await invoke('whoami', 'zhangsan', {}, false);
  return seen;
}

/** sha256 hex, as the sandbox stores tokens and codes. */
export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Hashes of every token and code the sandbox ever issued in this run (it stores hashes only). */
export function issuedHashes(sandboxDb: string): Set<string> {
  const db = new Database(sandboxDb, { readonly: true });
  try {
    const rows = [
      ...db.prepare('SELECT token_hash AS h FROM user_tokens').all(),
      ...db.prepare('SELECT token_hash AS h FROM app_tokens').all(),
      ...db.prepare('SELECT code_hash AS h FROM auth_codes').all(),
    ] as { h: string }[];
    return new Set(rows.map((r) => r.h));
  } finally {
    db.close();
  }
}

/** Opens the app's state store as the app did and decrypts every token in it. */
export async function storedTokens(
  state: string,
  keys: string[],
): Promise<{ accessToken: string; refreshToken?: string | undefined }[]> {
  const shared = await createSharedState({
    url: state,
    logger: silentLogger(),
    clientId: CLIENT_ID,
    tokenKeys: TOKEN_KEY,
  });
  try {
    const out = [];
    for (const key of keys) {
      const token = await shared.tokenStore.get(key);
      if (token) out.push(token);
    }
    return out;
  } finally {
    await shared.close();
  }
}

/** Every 32-lowercase-hex run in `text` (the shape of every DingTalk token and auth code). */
export function hex32(text: string): string[] {
  return [...text.matchAll(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g)].map((m) => m[0]);
}
