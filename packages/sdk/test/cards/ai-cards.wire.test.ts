/**
 * Streaming AI card replies over the wire: AiCards against the real sandbox (card APIs emulated,
 * read back through /sandbox/cards). Stream -> final text, the per-card throttle, QPS 403 -> pause and
 * the final text still lands, the markdown fallback, the watchdog and the handler's abort signal.
 */
import type { Sandbox } from '@dingtalk-skills/sandbox';
import {
  AiCards,
  type AiCardsOptions,
  type CardFallback,
  FlowStatus,
  type OpenApiClient,
} from '@dingtalk-skills/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import {
  cardOf,
  cardStats,
  chunks,
  control,
  seedClient,
  setCardQpsLimit,
  sleep,
  startCardSandbox,
} from './support.js';

let sandbox: Sandbox;
let client: OpenApiClient;
const made: AiCards[] = [];

function cards(options: Partial<AiCardsOptions> = {}): AiCards {
  const c = new AiCards({
    openapi: client,
    intervalMs: 50,
    backoffMs: 200,
    finishTimeoutMs: 20_000,
    ...options,
  });
  made.push(c);
  return c;
}

beforeAll(async () => {
  sandbox = await startCardSandbox();
  client = seedClient(sandbox);
});

afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.close()));
  await setCardQpsLimit(sandbox, 0);
  await control(sandbox, 'POST', '/sandbox/faults/openapi', { mode: 'none' });
});

afterAll(async () => {
  await client.close();
  await sandbox.close();
});

describe('AiCards over the wire', () => {
  it('streams a reply into a single-chat card and finalizes it with the full text', async () => {
    const ai = cards();
    const stream = ai.start({ kind: 'user', userId: 'zhangsan' });
    const parts = chunks(12);
    for (const part of parts) {
      stream.append(part);
      await sleep(20);
    }
    const result = await stream.finish();
    const full = parts.join('');
    expect(result).toMatchObject({ outcome: 'card', status: 'finished', text: full });
    const card = await cardOf(sandbox, stream.outTrackId);
    expect(card.flowStatus).toBe(FlowStatus.Finished);
    expect(card.text).toBe(full);
    expect(card.spaces).toEqual([expect.objectContaining({ spaceType: 'IM_ROBOT', id: 'zhangsan' })]);
    expect(card.streaming).toMatchObject({ key: 'msgContent', finalized: true, error: false });
    const apis = card.history.map((h) => h.api);
    expect(apis.slice(0, 3)).toEqual(['create', 'deliver', 'update']); // the first frame sets "inputting"
    expect(card.history[2]?.params?.flowStatus).toBe(FlowStatus.Inputting);
    expect(apis.at(-1)).toBe('update');
    // Every frame carried the full text so far: each is a prefix of the final text.
    for (const h of card.history.filter((x) => x.api === 'streaming'))
      expect(full.startsWith(h.content ?? '?')).toBe(true);
  });

  it('delivers to a group by openConversationId and finish(finalText) replaces the text', async () => {
    const ai = cards({ deliverMode: 'one-shot' });
    const stream = ai.start({ kind: 'group', openConversationId: 'cidGroupAbc123==' });
    stream.append('草稿 draft');
    const result = await stream.finish('最终答案 final answer');
    expect(result.outcome).toBe('card');
    const card = await cardOf(sandbox, stream.outTrackId);
    expect(card.spaces).toEqual([expect.objectContaining({ spaceType: 'IM_GROUP', id: 'cidGroupAbc123==' })]);
    expect(card.history[0]?.api).toBe('create');
    expect(card.text).toBe('最终答案 final answer');
    expect(card.flowStatus).toBe(FlowStatus.Finished);
  });

  it('throttles each card to one call per intervalMs and coalesces appends (only the latest full text is sent)', async () => {
    const ai = cards({ intervalMs: 400 });
    const stream = ai.start({ kind: 'user', userId: 'lisi' });
    const parts = chunks(60);
    for (const part of parts) {
      stream.append(part);
      await sleep(10); // 60 appends in ~0.6 s+: at most a few frames fit
    }
    await stream.finish();
    const card = await cardOf(sandbox, stream.outTrackId);
    expect(card.text).toBe(parts.join(''));
    const frames = card.history.filter((h) => h.api === 'streaming' || h.api === 'update');
    expect(frames.length).toBeLessThan(parts.length / 4);
    // Gaps measured where the calls arrived; half the interval leaves room for network jitter.
    const times = card.history.slice(1).map((h) => h.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
  });

  it('pauses on the card QPS 403 and still lands every final text', async () => {
    await setCardQpsLimit(sandbox, 3);
    await control(sandbox, 'DELETE', '/sandbox/cards/stats');
    const ai = cards({ qps: 50, windowMs: 1000, intervalMs: 30 });
    const streams = ['zhangsan', 'lisi', 'zhangsan', 'lisi'].map((userId) =>
      ai.start({ kind: 'user', userId }),
    );
    const parts = chunks(15);
    for (const part of parts) {
      for (const s of streams) s.append(part);
      await sleep(30);
    }
    const results = await Promise.all(streams.map((s) => s.finish()));
    const stats = await cardStats(sandbox);
    expect(stats.qpsRejected).toBeGreaterThan(0);
    expect(ai.stats().qpsLimited).toBeGreaterThan(0);
    expect(ai.stats().backoffs).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      expect(r.outcome).toBe('card');
      const card = await cardOf(sandbox, streams[i]!.outTrackId);
      expect(card.text).toBe(parts.join(''));
      expect(card.flowStatus).toBe(FlowStatus.Finished);
    }
  });

  it('falls back to a markdown message with the full text when the card cannot be finished', async () => {
    const sent: CardFallback[] = [];
    const ai = cards({ finishTimeoutMs: 3000, fallback: async (f) => void sent.push(f) });
    const stream = ai.start({ kind: 'user', userId: 'zhangsan' });
    stream.append('第一部分 part one, ');
    await until(() => stream.state === 'streaming', 10_000, 'the card to be delivered');
    await until(() => ai.stats().calls >= 3, 10_000, 'the first frame');
    // From now on every card call fails with 500.
    await control(sandbox, 'POST', '/sandbox/faults/openapi', {
      path: '/v1.0/card',
      mode: 'status',
      status: 500,
    });
    stream.append('第二部分 part two');
    const result = await stream.finish();
    expect(result.outcome).toBe('fallback');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ text: '第一部分 part one, 第二部分 part two', status: 'finished' });
    expect(sent[0]?.target).toEqual({ kind: 'user', userId: 'zhangsan' });
    expect(sent[0]?.reason).toMatch(/500/);
    expect(ai.stats().fallbacks).toBe(1);
  });

  it('falls back when the card cannot even be created, and reports lost without a fallback', async () => {
    await control(sandbox, 'POST', '/sandbox/faults/openapi', {
      path: '/v1.0/card',
      mode: 'status',
      status: 503,
    });
    const sent: CardFallback[] = [];
    const ai = cards({ finishTimeoutMs: 2000 });
    const withFallback = ai.start(
      { kind: 'user', userId: 'lisi' },
      { fallback: async (f) => void sent.push(f) },
    );
    withFallback.append('只有消息 message only');
    const without = ai.start({ kind: 'user', userId: 'lisi' });
    without.append('x');
    const [a, b] = await Promise.all([withFallback.finish(), without.finish()]);
    expect(a.outcome).toBe('fallback');
    expect(sent.map((f) => f.text)).toEqual(['只有消息 message only']);
    expect(b.outcome).toBe('lost');
    expect(ai.stats().lost).toBe(1);
  });

  it('the watchdog fails a card whose handler stalled, keeping the text so far', async () => {
    const ai = cards({ idleTimeoutMs: 400, watchdogIntervalMs: 50 });
    const stream = ai.start({ kind: 'group', openConversationId: 'cidStalled' });
    stream.append('半句话 half a sentence');
    const result = await stream.done; // nobody calls finish: the watchdog does
    expect(result).toMatchObject({ outcome: 'card', status: 'failed' });
    const card = await cardOf(sandbox, stream.outTrackId);
    expect(card.flowStatus).toBe(FlowStatus.Failed);
    expect(card.text.startsWith('半句话 half a sentence')).toBe(true);
    expect(card.text).toContain('回复中断');
    expect(card.streaming?.error).toBe(true);
    expect(ai.stats().watchdogFailures).toBe(1);
    stream.append('late'); // ignored, no throw
    expect(stream.text).toBe('半句话 half a sentence');
  });

  it("fails the card when the handler's abort signal fires (deadline, shutdown)", async () => {
    const ai = cards();
    const controller = new AbortController();
    const stream = ai.start({ kind: 'user', userId: 'zhangsan' }, { signal: controller.signal });
    stream.append('working…');
    controller.abort();
    const result = await stream.done;
    expect(result.status).toBe('failed');
    expect((await cardOf(sandbox, stream.outTrackId)).flowStatus).toBe(FlowStatus.Failed);
  });

  it('finish twice answers the same result; fail after finish changes nothing; close fails open cards', async () => {
    const ai = cards();
    const a = ai.start({ kind: 'user', userId: 'zhangsan' });
    a.append('一');
    const [r1, r2] = await Promise.all([a.finish(), a.finish('ignored')]);
    expect(r2).toBe(r1);
    expect(await a.fail(new Error('late'))).toBe(r1);
    expect((await cardOf(sandbox, a.outTrackId)).flowStatus).toBe(FlowStatus.Finished);
    const open = ai.start({ kind: 'user', userId: 'lisi' });
    open.append('进行中 in progress');
    await ai.close();
    const result = await open.done;
    expect(result.status).toBe('failed');
    expect((await cardOf(sandbox, open.outTrackId)).flowStatus).toBe(FlowStatus.Failed);
    expect(() => ai.start({ kind: 'user', userId: 'lisi' })).toThrow(
      expect.objectContaining({ code: 'ERR_STOPPED' }),
    );
  });

  it('the text goes to the card as given, never evaluated: markdown and HTML are carried verbatim', async () => {
    const ai = cards();
    const stream = ai.start({ kind: 'user', userId: 'zhangsan' });
    const hostile = '<img src=x onerror=alert(1)> **粗体** {{process.env.SECRET}} \u0000 "quotes"';
    stream.append(hostile);
    await stream.finish();
    expect((await cardOf(sandbox, stream.outTrackId)).text).toBe(hostile);
  });

  it('refuses bad targets and options with coded errors', () => {
    const ai = cards();
    expect(() => ai.start({ kind: 'user', userId: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    );
    expect(() => ai.start({ kind: 'group', openConversationId: 'a b' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    );
    expect(() => new AiCards({ openapi: client, qps: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG' }),
    );
  });
});
