import {
  DingTalkSkillsError,
  Metrics,
  type OpsServer,
  StreamClient,
  startOpsServer,
} from '@dingtalk-skills/sdk';
import { streamReadiness } from '@dingtalk-skills/sdk/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startOpsServer', () => {
  it('serves extra GET routes by exact path; they cannot replace the ops paths; other methods 405', async () => {
    server = await startOpsServer({
      port: 0,
      routes: {
        '/dingtalk/bot/consent': async (req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`got ${new URL(req.url ?? '/', 'http://x').searchParams.get('state')}`);
        },
        '/healthz': async (_req, res) => {
          res.writeHead(418);
          res.end('hijacked');
        },
      },
    });
    const ok = await fetch(`${server.url}/dingtalk/bot/consent?state=s1&code=c`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('got s1');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/dingtalk/bot/consent`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.url}/dingtalk/bot/consent/x`)).status).toBe(404);
    expect((await fetch(`${server.url}/toString`)).status).toBe(404);
  });

  it('without metrics /metrics is 404; without a check the process is ready', async () => {
    server = await startOpsServer({ port: 0 });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const ready = await fetch(`${server.url}/readyz?verbose=1`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('a check answering false is 503; one that throws is 500 and logged; HEAD /metrics has no body', async () => {
    const logs = new CaptureLogger();
    let mode: 'false' | 'throw' = 'false';
    server = await startOpsServer({
      port: 0,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: logs.logger,
      readiness: async () => {
        if (mode === 'throw') throw new Error('check broke');
        return false;
      },
    });
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready' });
    mode = 'throw';
    const failed = await fetch(`${server.url}/readyz`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ status: 'error', message: 'internal error' });
    expect(logs.find('ops endpoint failed')[0]).toMatchObject({ level: 50, url: '/readyz' });
    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    // Still serving after a failure.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses a bad port with ERR_CONFIG; close() twice is safe', async () => {
    await expect(startOpsServer({ port: 70_000 })).rejects.toBeInstanceOf(DingTalkSkillsError);
    await expect(startOpsServer({ port: -1 })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    server = await startOpsServer({ port: 0 });
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('streamReadiness: a client that has not connected is not ready', async () => {
    const client = new StreamClient({
      clientId: 'id',
      clientSecret: 'secret',
      apiBase: 'http://127.0.0.1:9',
    });
    expect(await streamReadiness(client)()).toEqual({
      ready: false,
      reason: 'no Stream connection is registered',
      state: 'idle',
      connections: 0,
      of: 1,
    });
  });
});
