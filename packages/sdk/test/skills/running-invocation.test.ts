import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AnySkill,
  type AppApi,
  defineSkill,
  type GraphRequest,
  type Logger,
  type SkillInvocation,
  SkillsApp,
  silentLogger,
  type UserApi,
} from '../../src/internal.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { deferred } from '../support/wait.js';

/** One invocation as a receiver makes it (here the MCP shape: it carries the caller's signal). */
function invocation(path: string, signal?: AbortSignal): SkillInvocation {
  return {
    source: 'mcp',
    requestId: 'r-1',
    method: 'POST',
    path,
    segments: path.split('/'),
    query: {},
    body: {},
    headers: {},
    ...(signal ? { signal } : {}),
  };
}

function graph(uri: string) {
  const req: GraphRequest = {
    requestLine: { method: 'POST', uri },
    headers: { 'content-type': 'application/json' },
    body: '{}',
  };
  return { messageId: 'm-1', data: JSON.stringify(req) };
}

function makeApp(skills: AnySkill[], logger: Logger = silentLogger()) {
  return new SkillsApp({
    skills,
    logger,
    credentials: { resolve: async () => undefined },
    userApiFor: () => ({}) as UserApi,
    appApi: {} as AppApi,
  });
}

describe('a running invocation', () => {
  it("the caller's signal aborts ctx.signal (before or during the run), and its listener is gone after", async () => {
    const started = deferred();
    const reasons: string[] = [];
    const waits = defineSkill({
      operationId: 'waits',
      summary: 'Waits',
      description: 'Waits until its signal aborts.',
      path: '/v1/waits',
      input: z.object({}),
      handler: (_input, ctx) =>
        new Promise<{ aborted: string }>((resolve) => {
          const done = () => {
            const reason = String((ctx.signal.reason as Error).message);
            reasons.push(reason);
            resolve({ aborted: reason });
          };
          if (ctx.signal.aborted) done();
          else ctx.signal.addEventListener('abort', done);
          started.resolve();
        }),
      timeoutMs: 5_000,
    });
    const app = makeApp([waits]);

    const during = new AbortController();
    const running = app.invoke(invocation('/v1/waits', during.signal));
    await started.promise;
    expect(getEventListeners(during.signal, 'abort')).toHaveLength(1);
    during.abort();
    const first = await running;
    expect(first.outcome).toEqual({ kind: 'ok', body: { aborted: 'the caller cancelled the invocation' } });
    expect(getEventListeners(during.signal, 'abort')).toHaveLength(0);

    const before = new AbortController();
    before.abort();
    const second = await app.invoke(invocation('/v1/waits', before.signal));
    expect(second.outcome).toEqual({ kind: 'ok', body: { aborted: 'the caller cancelled the invocation' } });
    expect(reasons).toEqual(['the caller cancelled the invocation', 'the caller cancelled the invocation']);
  });

  it("a finished or timed-out invocation leaves no listener on the caller's signal", async () => {
    const quick = defineSkill({
      operationId: 'quick',
      summary: 'Quick',
      description: 'Answers at once.',
      path: '/v1/quick',
      input: z.object({}),
      handler: () => ({ ok: true }),
    });
    const stuck = defineSkill({
      operationId: 'stuck',
      summary: 'Stuck',
      description: 'Never answers.',
      path: '/v1/stuck',
      input: z.object({}),
      handler: () => new Promise<never>(() => undefined),
      timeoutMs: 30,
    });
    const app = makeApp([quick, stuck]);
    const signal = new AbortController().signal;
    expect((await app.invoke(invocation('/v1/quick', signal))).outcome.kind).toBe('ok');
    const timedOut = await app.invoke(invocation('/v1/stuck', signal));
    expect(timedOut.outcome).toMatchObject({ kind: 'error', status: 504, code: 'HandlerTimeout' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('an answer JSON cannot hold (a BigInt, no output schema) is a 500 with a log line, not a rejected callback', async () => {
    const big = defineSkill({
      operationId: 'big',
      summary: 'Big',
      description: 'Returns a BigInt.',
      path: '/v1/big',
      input: z.object({}),
      handler: () => ({ n: 10n }),
    });
    const log = new CaptureLogger({ level: 'info' });
    const res = await makeApp([big], log.logger).handleGraph(graph('/v1/big'));
    expect(res.statusLine.code).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ success: false, code: 'InternalError' });
    const line = log.entries.find((e) => e.msg === 'the answer could not be rendered; answering 500');
    expect(line).toMatchObject({ skill: 'big', requestId: expect.any(String) });
    // The invocation is reported with the answer it got.
    expect(log.entries.find((e) => e.msg === 'skill invocation failed')).toMatchObject({
      skill: 'big',
      code: 'InternalError',
    });
  });

  it('writes the per-invocation debug line only when debug is on; a failure is warned at any level', async () => {
    const ok = defineSkill({
      operationId: 'ok',
      summary: 'Ok',
      description: 'Answers.',
      path: '/v1/ok',
      input: z.object({}),
      handler: () => ({ ok: true }),
    });
    const fails = defineSkill({
      operationId: 'fails',
      summary: 'Fails',
      description: 'Throws.',
      path: '/v1/fails',
      input: z.object({}),
      handler: () => {
        throw new Error('boom');
      },
    });
    for (const level of ['debug', 'info'] as const) {
      const log = new CaptureLogger({ level });
      const app = makeApp([ok, fails], log.logger);
      await app.handleGraph(graph('/v1/ok'));
      await app.handleGraph(graph('/v1/fails'));
      const debugLines = log.entries.filter((e) => e.msg === 'skill invocation');
      expect(debugLines.map((e) => e.skill)).toEqual(level === 'debug' ? ['ok'] : []);
      expect(log.entries.filter((e) => e.msg === 'skill invocation failed').map((e) => e.skill)).toEqual([
        'fails',
      ]);
    }
  });
});
