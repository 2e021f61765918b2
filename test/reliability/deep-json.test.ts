/**
 * Deeply nested JSON from the platform (issue 11 #12, the SDK side), over the wire: a Graph request whose
 * body is a deeply nested object (sent as an object or as JSON text), and legacy plugin data nested as
 * deep, get the defined 400 naming the field, never a frame-level 500; the app keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN, startWireApp, type WireApp } from './support/wire-app.js';

let w: WireApp;

beforeAll(async () => {
  w = await startWireApp();
});

afterAll(async () => {
  await w.close();
});

/** `{"a":{"a":…1…}}` nested `depth` levels, as JSON text (built without recursion). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

// Deep enough to overflow JSON.stringify (5,000 already does), small enough for the 256 KiB frame limit.
const DEEP = 20_000;

describe('deeply nested JSON gets a 400, not a 500', () => {
  it('a Graph request whose body is a deeply nested object (not a string)', async () => {
    const raw = `{"requestLine":{"method":"POST","uri":"/v1/actions/test/throw"},"headers":{},"body":${nested(DEEP)}}`;
    const res = await w.graphRaw(raw);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      success: false,
      code: 'InvalidParameter',
      fields: [{ field: 'data.body', message: 'expected JSON nested at most 64 levels deep' }],
    });
    await w.stillServing();
  });

  it('a Graph request whose body text is deeply nested JSON', async () => {
    const raw = JSON.stringify({
      requestLine: { method: 'POST', uri: '/v1/actions/test/throw' },
      headers: {},
      body: nested(DEEP),
    });
    const res = await w.graphRaw(raw);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'InvalidParameter', fields: [{ field: 'data.body' }] });
    await w.stillServing();
  });

  it('legacy plugin data nested as deep', async () => {
    const raw = `{"abilityKey":"whoami","requestId":"rq-deep","data":${nested(DEEP)}}`;
    const answer = await w.callback(PLUGIN, raw);
    expect(answer).toMatchObject({ success: false, code: 'InvalidParameter' });
    await w.stillServing();
  });

  it('64 levels are still accepted (the limit is not below what a body can reasonably hold)', async () => {
    const raw = JSON.stringify({
      requestLine: { method: 'POST', uri: '/v1/actions/test/throw' },
      headers: {},
      body: JSON.stringify({ what: 'error', extra: JSON.parse(nested(63)) }),
    });
    const res = await w.graphRaw(raw);
    // Past the depth check: the skill ran (and threw its test error) -> the handler's 500, not a 400.
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'InternalError' });
  });
});
