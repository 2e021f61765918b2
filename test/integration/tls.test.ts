/**
 * The sandbox over TLS: https and `wss://` with a certificate made at start. Clients trust its CA only
 * through `NODE_EXTRA_CA_CERTS` (read by Node at start), so each client runs as a child process: this
 * project's SDK (built dist) and DingTalk's official Node SDK (`dingtalk-stream`, unchanged). The CLI's
 * `sandbox --tls` and `dev --tls` are started as a user starts them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, createSelfSignedTls, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, requireBuiltCli } from '../e2e/dev-process.js';
import { type NodeProcess, spawnNode } from '../support/child-process.js';

const FIXTURES = join(ROOT, 'test', 'integration', 'fixtures');

/** An https request trusting `ca` (and nothing else added). */
function httpsJson(
  url: string,
  ca: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca, headers: { accept: 'application/json', 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The child's environment: the test's, trusting `caFile` when given (else no extra CA at all). */
function childEnv(caFile?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DINGTALK_STATE', 'DINGTALK_SANDBOX_PORT', 'DINGTALK_API_BASE', 'NODE_EXTRA_CA_CERTS'])
    delete env[name];
  if (caFile !== undefined) env.NODE_EXTRA_CA_CERTS = caFile;
  return env;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-tls-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('createSandbox({tls})', () => {
  let sandbox: Sandbox;
  let ca: string;
  let caFile: string;

  beforeAll(async () => {
    const tls = createSelfSignedTls();
    ca = tls.ca;
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca);
    sandbox = await createSandbox({
      logger: silentLogger(),
      pingIntervalMs: 0,
      ephemeral: true,
      tls: { cert: tls.cert, key: tls.key },
    });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('serves https; a client that does not trust the CA is refused; connections/open answers wss://', async () => {
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = await fetch(`${sandbox.url}/sandbox/health`).then(
      () => 'connected',
      (err: Error) => String((err.cause as { code?: string } | undefined)?.code ?? err.message),
    );
    expect(untrusted).toMatch(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
    const health = await httpsJson(`${sandbox.url}/sandbox/health`, ca);
    expect(health.status).toBe(200);
    const open = await httpsJson(`${sandbox.url}/v1.0/gateway/connections/open`, ca, 'POST', {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      subscriptions: [{ type: 'EVENT', topic: '*' }],
    });
    expect(open.status).toBe(200);
    expect(open.body.endpoint).toBe(`wss://${new URL(sandbox.url).host}/connect`);
  });

  for (const [name, script, ua] of [
    ["this project's SDK", 'tls-sdk-client.mjs', 'tls-sdk-client'],
    ["DingTalk's official Node SDK (dingtalk-stream)", 'tls-official-client.mjs', 'tls-official-client'],
  ] as const) {
    it(`${name} connects over wss:// trusting the CA through NODE_EXTRA_CA_CERTS and gets an EVENT`, async () => {
      if (script === 'tls-sdk-client.mjs') requireBuiltCli();
      const child: NodeProcess = spawnNode(
        [join(FIXTURES, script), sandbox.url, SEED_APP.clientId, SEED_APP.clientSecret],
        { cwd: ROOT, env: childEnv(caFile) },
      );
      try {
        await child.waitForOutput(/(connected)/, 20_000, `${script} connecting`);
        const conn = await sandbox.gateway.waitForConnection(
          { clientId: SEED_APP.clientId, type: 'EVENT' },
          10_000,
        );
        expect(conn.ua).toContain(ua);
        const pushed = sandbox.gateway.pushEvent({ eventType: 'tls_check', data: {}, eventId: `evt-${ua}` });
        expect(await child.waitForOutput(/event (\S+)/, 20_000, `${script} receiving the EVENT`)).toBe(
          `evt-${ua}`,
        );
        expect((await pushed.done).status).toBe('acked');
        const exit = await child.exited;
        expect(exit.code, child.output()).toBe(0);
      } finally {
        await child.stop(5_000);
      }
      await sandbox.gateway.reset({ dropConnections: true });
    }, 45_000);
  }
});

describe('the CLI with --tls', () => {
  beforeAll(() => requireBuiltCli());

  it('sandbox --tls prints the https URL and the CA file; the CA file makes https verifiable', async () => {
    const caFile = join(dir, 'cli-sandbox-ca.pem');
    const cli = spawnNode([BIN, 'sandbox', '--port', '0', '--ephemeral', '--tls', '--tls-ca-file', caFile], {
      cwd: ROOT,
      env: { ...childEnv(), LOG_LEVEL: 'warn' },
    });
    try {
      const url = await cli.waitForOutput(
        /base URL\s+(https:\/\/127\.0\.0\.1:\d+)\//,
        25_000,
        'sandbox --tls',
      );
      await cli.waitForOutput(/TLS CA\s+(\S+)/, 5_000, 'the CA line');
      expect(cli.output()).toContain(`NODE_EXTRA_CA_CERTS=${caFile}`);
      const ca = readFileSync(caFile, 'utf8');
      expect(ca).toContain('BEGIN CERTIFICATE');
      const health = await httpsJson(`${url}/sandbox/health`, ca);
      expect(health.status).toBe(200);
    } finally {
      const stopped = await cli.stop(10_000);
      expect(stopped.code, cli.output()).toBe(0);
    }
  }, 40_000);

  it('dev --tls runs the app over wss:// (it trusts the CA it made) and serves the page over https', async () => {
    const caFile = join(dir, 'cli-dev-ca.pem');
    const cli = spawnNode(
      [BIN, 'dev', 'examples/crm', '--port', '0', '--ephemeral', '--tls', '--tls-ca-file', caFile],
      { cwd: ROOT, env: { ...childEnv(), LOG_LEVEL: 'warn' } },
    );
    try {
      const url = await cli.waitForOutput(
        /assistant page\s+(https:\/\/127\.0\.0\.1:\d+)\//,
        40_000,
        'dev --tls',
      );
      expect(cli.output()).toContain('connected over Stream');
      expect(cli.output()).toContain(`TLS CA           ${caFile}`);
      const ca = readFileSync(caFile, 'utf8');
      const conns = await httpsJson(`${url}/sandbox/connections?state=open`, ca);
      const list = conns.body.connections as Array<{ appId: string; state: string }>;
      expect(
        list.filter((c) => c.appId === SEED_APP.clientId && c.state === 'open').length,
      ).toBeGreaterThanOrEqual(1);
      const say = await httpsJson(`${url}/sandbox/assistant/invoke`, ca, 'POST', {
        operationId: 'whoami',
        userId: 'zhangsan',
        autoConsent: true,
      });
      expect(say.status).toBe(200);
      const transcript = say.body.transcript as Array<{ step: string }>;
      expect(transcript.at(-1)?.step).toBe('result');
    } finally {
      const stopped = await cli.stop(15_000);
      expect(stopped.code, cli.output()).toBe(0);
    }
  }, 60_000);
});
