/**
 * Issue 11, item 11: CALLBACKs of a topic without handler and EVENTs with no event handler are answered
 * 404 every time, but their warnings are rate-limited like malformed frames (LogBudget): 2 000 frames of
 * each kind cost a bounded number of log lines, and a later line counts those left out.
 */
import { Topic } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';

const fx = streamFixturePerTest();
const N = 2_000;
const BURST = 5;

describe('a flood of messages nobody handles', () => {
  it('answers every CALLBACK of an unknown topic 404 and logs a bounded number of lines', async () => {
    const client = fx.client({ malformedFrameLog: { burst: BURST, perSecond: 1 } });
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    for (let i = 0; i < N; i++) gw.send(sock!, gw.callbackFrame(`/v1.0/unknown/topic/${i}`, {}));
    await gw.roundTrip(sock!);
    const answered = gw.acks.filter((a) => a.ack.code === 404);
    expect(answered).toHaveLength(N);
    const lines = fx.logs.find('CALLBACK for a topic without handler');
    expect(lines.length).toBeGreaterThanOrEqual(BURST);
    // The burst, plus at most one a second while the flood was read.
    expect(lines.length).toBeLessThan(BURST + 20);
    await client.stop();
    // stop() reports what was left out of the log since the last line.
    const reported = lines.reduce((n, l) => n + ((l.suppressed as number | undefined) ?? 0), 0);
    const [summary] = fx.logs.find('messages without a handler since the last such warning');
    expect(reported + ((summary?.suppressed as number | undefined) ?? 0) + lines.length).toBe(N);
  });

  it('answers every EVENT 404 when no event handler is registered and logs a bounded number of lines', async () => {
    const client = fx.client({ malformedFrameLog: { burst: BURST, perSecond: 1 } });
    client.onCallback(Topic.GraphInvoke, () => null);
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    for (let i = 0; i < N; i++) gw.send(sock!, gw.eventFrame({ i }));
    await gw.roundTrip(sock!);
    expect(gw.acks.filter((a) => a.ack.code === 404)).toHaveLength(N);
    const lines = fx.logs.find('EVENT received but no event handler is registered');
    expect(lines.length).toBeGreaterThanOrEqual(BURST);
    expect(lines.length).toBeLessThan(BURST + 20);
  });
});
