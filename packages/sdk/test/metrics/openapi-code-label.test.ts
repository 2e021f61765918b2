/**
 * Issue 11, item 15: `openapi_requests_total{code}` takes its code from the server's answer. A server
 * answering random codes must not grow one series per code: known codes pass, anything else is `other`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics, silentLogger } from '@dingtalk-skills/sdk';
import { createOpenApiClient, staticTokenSource } from '@dingtalk-skills/sdk/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from '../support/caught.js';
import { parsePromText } from './prom-text.js';

const RANDOM = 300;
let n = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    n++;
    // Every 10th answer a known code; the rest random strings of every shape a server could send.
    const code =
      n % 10 === 0
        ? 'InvalidAuthentication'
        : `${'x'.repeat(n % 7)}random.${Math.random().toString(36).slice(2)}"}\n{${n}`;
    const body = JSON.stringify({ code, message: 'hostile', requestid: `r-${n}` });
    res.writeHead(400, { 'content-type': 'application/json' }).end(body);
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('openapi_requests_total{code}', () => {
  it('keeps known codes and Http<status>, and counts every other code as `other`', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const c = createOpenApiClient({
      apiBase: url,
      clientId: 'metrics-client',
      clientSecret: 'metrics-secret-0001',
      logger: silentLogger(),
      rateLimit: false,
      retry: { maxAttempts: 1 },
      observer: metrics,
    });
    try {
      for (let i = 0; i < RANDOM; i++)
        await caught(c.request({ method: 'GET', path: '/v1.0/contact/users/me' }, staticTokenSource('t')));
    } finally {
      await c.close();
    }
    const samples = parsePromText(await metrics.render()).filter(
      (s) => s.name === 'dingtalk_openapi_requests_total',
    );
    const codes = new Set(samples.map((s) => s.labels.code));
    expect(codes).toEqual(new Set(['InvalidAuthentication', 'other']));
    const total = samples.reduce((t, s) => t + s.value, 0);
    expect(total).toBe(RANDOM);
    expect(samples.find((s) => s.labels.code === 'InvalidAuthentication')?.value).toBe(RANDOM / 10);
  });
});
