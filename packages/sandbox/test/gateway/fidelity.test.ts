import { SEED_APP, unifiedAppIdFor } from '@dingtalk-skills/sandbox';
import { describe, expect, it } from 'vitest';
import { ConnectionOpenAnswer, ErrorEnvelope } from '../openapi/contract/models.js';
import { ALL_SUBSCRIPTIONS, captureLogs, http, sandboxPerTest } from './support.js';

const { start, connect } = sandboxPerTest();

const OPEN = '/v1.0/gateway/connections/open';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function openBody(secret: string = SEED_APP.clientSecret): string {
  return JSON.stringify({
    clientId: SEED_APP.clientId,
    clientSecret: secret,
    subscriptions: ALL_SUBSCRIPTIONS,
  });
}

describe('gateway fidelity details', () => {
  it('EVENT frames carry a unified app id (a UUID, as in DingTalk’s event docs), not the clientId', async () => {
    const sandbox = await start();
    const client = await connect(sandbox);
    for (const n of [1, 2])
      expect(
        (await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { n }, wait: true })).status,
      ).toBe(200);
    const events = client.received('EVENT');
    expect(events).toHaveLength(2);
    const ids = events.map((e) => e.headers.eventUnifiedAppId);
    expect(ids[0]).toMatch(UUID);
    expect(ids[0]).not.toBe(SEED_APP.clientId);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[0]).toBe(unifiedAppIdFor(SEED_APP.clientId));
    expect(unifiedAppIdFor('another-app')).not.toBe(ids[0]);
  });

  it('connections/open answers carry x-acs-request-id (the error body’s requestid) and x-acs-trace-id', async () => {
    const sandbox = await start();
    const post = (body: string) =>
      fetch(`${sandbox.url}${OPEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
      });
    const ok = await post(openBody());
    expect(ok.status).toBe(200);
    expect(ConnectionOpenAnswer.safeParse(await ok.clone().json()).success).toBe(true);
    expect(ok.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(ok.headers.get('x-acs-request-id')).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-/);
    expect(ok.headers.get('x-acs-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    const refused = await post(openBody('wrong'));
    expect(refused.status).toBe(401);
    const body = (await refused.json()) as { requestid: string };
    expect(ErrorEnvelope.safeParse(body).success).toBe(true);
    expect(refused.headers.get('x-acs-request-id')).toBe(body.requestid);
    expect(refused.headers.get('x-acs-trace-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('connections/open without Accept: application/json answers JSON and warns that DingTalk may answer XML', async () => {
    const logs = captureLogs();
    const sandbox = await start({ logger: logs.logger });
    const warnings = () =>
      logs.lines.filter((l) => String(l.msg).includes('without Accept: application/json')).length;
    const withAccept = await fetch(`${sandbox.url}${OPEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: openBody(),
    });
    expect(withAccept.status).toBe(200);
    expect(warnings()).toBe(0);
    for (const accept of [undefined, 'text/xml', '*/*']) {
      const res = await fetch(`${sandbox.url}${OPEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
        body: openBody(),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { ticket: string }).ticket).toEqual(expect.any(String));
    }
    expect(warnings()).toBe(3);
  });
});
