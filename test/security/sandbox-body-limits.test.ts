/**
 * Bodies that cost the sandbox more than their size (issue 11 #8, #12), over the wire:
 * - JSON nested deeper than 64 levels is refused before parsing with a defined 400 (the control API's
 *   `jsonTooDeep`, DingTalk's `InvalidParameter` envelope on /v1.0), never a 500 from a later
 *   `JSON.stringify` (an EVENT pushed to a live connection used to answer 500);
 * - a YAML alias bomb or deeply nested YAML in `POST /sandbox/skills` is 400 `invalidSpec`, not 500;
 * - a 150 KB `servers[0].url` of slashes is read promptly (the quadratic `/\/+$/` froze the sandbox for
 *   10 s; test/security/regex-safety.test.ts keeps such regexes out; here only the answer is checked).
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('body limits of the sandbox', () => {
  let sandbox: Sandbox;
  const post = async (path: string, body: string, type = 'application/json') => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('refuses deep JSON with a defined 400 on every kind of route; 64 levels still pass', async () => {
    // A live connection, so a pushed EVENT is serialized (where deep data used to throw: a 500).
    const open = await post(
      '/v1.0/gateway/connections/open',
      JSON.stringify({
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        subscriptions: [{ type: 'EVENT', topic: '*' }],
      }),
    );
    const ws = new WebSocket(`${open.body.endpoint as string}?ticket=${open.body.ticket as string}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    try {
      const deep = deepArray(100_000);
      const event = await post('/sandbox/events', `{"eventType":"deep","data":${deep}}`);
      expect(event.status).toBe(400);
      expect(event.body.code).toBe('jsonTooDeep');
      const invoke = await post(
        '/sandbox/assistant/invoke',
        `{"operationId":"x","userId":"zhangsan","params":{"a":${deep}}}`,
      );
      expect(invoke).toMatchObject({ status: 400, body: { code: 'jsonTooDeep' } });
      const platform = await post('/sandbox/faults/openapi', `{"mode":"none","x":${deep}}`);
      expect(platform.status).toBe(400);
      expect(String(platform.body.message)).toContain('deeper than 64');
      const openapi = await post('/v1.0/oauth2/accessToken', `{"appKey":${deep}}`);
      expect(openapi.status).toBe(400);
      expect(openapi.body.code).toBe('InvalidParameter');
      expect(typeof openapi.body.requestid).toBe('string');
      // Brackets inside strings are not nesting; 64 levels (body, data, 62 arrays) are accepted.
      const fine = await post(
        '/sandbox/events',
        JSON.stringify({
          eventType: 'ok',
          data: { text: '['.repeat(1000), nested: JSON.parse(deepArray(62)) },
        }),
      );
      expect(fine.status).toBe(200);
    } finally {
      ws.terminate();
    }
    expect((await fetch(`${sandbox.url}/sandbox/health`)).status).toBe(200);
  });

  it('answers a YAML alias bomb and deeply nested YAML with 400 invalidSpec', async () => {
    const rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
      const prev = 'abcdefg'[i];
      rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const bomb = await post('/sandbox/skills', `${rows.join('\n')}\n`, 'application/yaml');
    expect(bomb.status).toBe(400);
    expect(bomb.body.code).toBe('invalidSpec');
    expect(String(bomb.body.message)).toContain('alias');
    for (const deep of [`x: ${deepArray(50_000)}\n`, `x: ${'{a: '.repeat(200)}1${'}'.repeat(200)}\n`]) {
      const res = await post('/sandbox/skills', deep, 'application/yaml');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalidSpec');
    }
    expect((await fetch(`${sandbox.url}/sandbox/health`)).status).toBe(200);
  });

  it('reads a spec whose servers[0].url holds 150 KB of slashes (trailing slashes trimmed), or a path of 150 KB of {', async () => {
    const spec = (url: string) => `openapi: 3.0.1
info: {title: Slashes, version: 1.0.0}
servers: [{url: "${url}"}]
paths:
  /v1/a:
    get: {summary: A, description: A., operationId: slashA}
`;
    const slashes = '/'.repeat(150_000);
    const inner = await post('/sandbox/skills', spec(`http://a.example${slashes}x`), 'application/yaml');
    expect(inner.status).toBe(200);
    const trailing = await post(
      '/sandbox/skills',
      spec(`http://a.example/api${slashes}`),
      'application/yaml',
    );
    expect(trailing.status).toBe(200);
    expect(JSON.stringify(trailing.body)).toContain('"http://a.example/api"');
    // The path-template scan (`{name}`) was quadratic on a run of '{' as well.
    const braces = `openapi: 3.0.1
info: {title: Braces, version: 1.0.0}
x-dingtalk-protocol: stream
paths:
  "/v1/${'{'.repeat(150_000)}":
    get: {summary: B, description: B., operationId: braces}
`;
    const brace = await post('/sandbox/skills', braces, 'application/yaml');
    expect(brace).toMatchObject({ status: 400, body: { code: 'invalidSpec' } }); // not a path template
  });
});
