import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AnySkill,
  type AppApi,
  defineSkill,
  type GraphRequest,
  type Logger,
  type SkillContext,
  type SkillInvocation,
  SkillsApp,
  silentLogger,
  type UserApi,
} from '../../src/internal.js';
import { RouteTable } from '../../src/skills/route-table.js';
import { SkillRunner } from '../../src/skills/skill-runner.js';
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

/** A skill named `name` at `/v1/<name>` with an empty input (these tests only vary the handler). */
function skillAt(
  name: string,
  handler: (input: Record<string, never>, ctx: SkillContext) => unknown,
  extra: { timeoutMs?: number } = {},
): AnySkill {
  return defineSkill({
    operationId: name,
    summary: name,
    description: `Test skill ${name}.`,
    path: `/v1/${name}`,
    input: z.object({}),
    handler,
    ...extra,
  }) as AnySkill;
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
    const waits = skillAt(
      'waits',
      (_input, ctx) =>
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
      { timeoutMs: 5_000 },
    );
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
    const quick = skillAt('quick', () => ({ ok: true }));
    const stuck = skillAt('stuck', () => new Promise<never>(() => undefined), { timeoutMs: 30 });
    const app = makeApp([quick, stuck]);
    const signal = new AbortController().signal;
    expect((await app.invoke(invocation('/v1/quick', signal))).outcome.kind).toBe('ok');
    const timedOut = await app.invoke(invocation('/v1/stuck', signal));
    expect(timedOut.outcome).toMatchObject({ kind: 'error', status: 504, code: 'HandlerTimeout' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('an answer JSON cannot hold (a BigInt, no output schema) is a 500 with a log line, not a rejected callback', async () => {
    const big = skillAt('big', () => ({ n: 10n }));
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
    const ok = skillAt('ok', () => ({ ok: true }));
    const fails = skillAt('fails', () => {
      throw new Error('boom');
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

  it('a failure the boundary cannot log (a frozen Error: pino refuses it) is still a prompt 500, never a 504 or an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const frozen = skillAt(
        'frozen',
        () => {
          throw Object.freeze(new Error('frozen'));
        },
        { timeoutMs: 5_000 },
      );
      const log = new CaptureLogger({ level: 'info' });
      const started = performance.now();
      const res = await makeApp([frozen], log.logger).handleGraph(graph('/v1/frozen'));
      expect(res.statusLine.code).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'InternalError' });
      expect(performance.now() - started).toBeLessThan(4_000);
      expect(
        log.entries.find(
          (e) => e.msg === 'the error boundary failed while answering a failure; answering 500',
        ),
      ).toMatchObject({ skill: 'frozen', thrown: 'Error: frozen' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('never throws synchronously: a hostile error from input validation, or a logger that throws on a malformed call', async () => {
    const hostile = () => {
      const err = new Error('hostile');
      Object.defineProperty(err, 'cause', {
        get() {
          throw new Error('cause getter');
        },
      });
      return err;
    };
    const refine = defineSkill({
      operationId: 'refine',
      summary: 'Refine',
      description: 'Its input check throws.',
      path: '/v1/refine',
      input: z.object({}).superRefine(() => {
        throw hostile();
      }),
      handler: () => ({}),
    });
    const app = makeApp([refine]);
    const viaInvoke = app.invoke(invocation('/v1/refine'));
    const viaGraph = app.handleGraph(graph('/v1/refine'));
    expect((await viaInvoke).outcome).toMatchObject({ kind: 'error', status: 500, code: 'InternalError' });
    expect((await viaGraph).statusLine.code).toBe(500);

    const base = silentLogger();
    const throwingWarn: Logger = {
      trace: base.trace.bind(base),
      debug: base.debug.bind(base),
      info: base.info.bind(base),
      error: base.error.bind(base),
      child: () => throwingWarn,
      warn: () => {
        throw new Error('warn failed');
      },
    };
    const malformed = makeApp([], throwingWarn).handleGraph({ messageId: 'm-2', data: 'not json' });
    await expect(malformed).rejects.toThrow('warn failed');
  });

  it('hands out a fresh outcome each time, and reports once even when the answer cannot be rendered at all', async () => {
    const silent = skillAt('silent', () => ({}));
    const reported: string[] = [];
    const routes = new RouteTable();
    routes.add(silent);
    const runner = new SkillRunner({
      routes,
      middleware: [() => undefined],
      logger: silentLogger(),
      skillTimeoutMs: 5_000,
      credentials: { resolve: async () => undefined },
      userApiFor: () => ({}) as UserApi,
      appApi: {} as AppApi,
      onError: undefined,
      observer: {
        invocationFinished: (skill, _source, outcome) => reported.push(`${skill} ${outcome.kind}`),
      },
    });
    const first = await runner.run(invocation('/v1/silent'));
    const second = await runner.run(invocation('/v1/silent'));
    expect(first.outcome).toEqual({
      kind: 'error',
      status: 500,
      code: 'InternalError',
      message: 'no answer',
    });
    expect(first.outcome).not.toBe(second.outcome);

    const unrenderable = runner.answer(invocation('/v1/silent'), () => {
      throw new Error('cannot render');
    });
    await expect(unrenderable).rejects.toThrow('cannot render');
    expect(reported).toEqual(['silent error', 'silent error', 'silent error']);
  });
});
