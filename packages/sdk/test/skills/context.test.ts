/**
 * The handler's context as the runner builds it: the abort signal follows the deadline whenever the
 * handler first asks for it, the child logger carries the request id and skill, and the input is built
 * from query, body and path without context params, the token, or a `__proto__` key reaching the prototype.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AppApi,
  defineSkill,
  type Logger,
  SkillsApp,
  SkillTimeoutError,
  silentLogger,
  type UserApi,
} from '../../src/internal.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeApp(skills: Parameters<typeof defineSkill>[0][], logger: Logger = silentLogger()) {
  return new SkillsApp({
    skills: skills.map((s) => defineSkill(s)),
    logger,
    credentials: { resolve: async () => undefined },
    userApiFor: () => ({}) as UserApi,
    appApi: {} as AppApi,
  });
}

function graph(uri: string, body: string) {
  return {
    messageId: 'm-ctx',
    data: JSON.stringify({
      requestLine: { method: 'POST', uri },
      headers: { 'content-type': 'application/json' },
      body,
    }),
  };
}

describe('skill context', () => {
  it('a signal taken before the deadline is aborted with SkillTimeoutError when it passes', async () => {
    let reason: unknown;
    const app = makeApp([
      {
        operationId: 'waits',
        summary: 'Waits',
        description: 'Waits for its signal.',
        input: z.object({}),
        timeoutMs: 30,
        handler: async (_i, ctx) => {
          const signal = ctx.signal;
          expect(signal.aborted).toBe(false);
          await new Promise((r) => signal.addEventListener('abort', r));
          reason = signal.reason;
          return {};
        },
      },
    ]);
    const res = await app.handleGraph(graph('/v1/actions/waits', '{}'));
    expect(res.statusLine.code).toBe(504);
    await sleep(5);
    expect(reason).toBeInstanceOf(SkillTimeoutError);
  });

  it('a signal first asked for after the deadline is already aborted', async () => {
    let aborted: boolean | undefined;
    let reason: unknown;
    const app = makeApp([
      {
        operationId: 'late',
        summary: 'Late',
        description: 'Looks at its signal too late.',
        input: z.object({}),
        timeoutMs: 20,
        handler: async (_i, ctx) => {
          await sleep(60);
          aborted = ctx.signal.aborted;
          reason = ctx.signal.reason;
          return {};
        },
      },
    ]);
    const res = await app.handleGraph(graph('/v1/actions/late', '{}'));
    expect(res.statusLine.code).toBe(504);
    await sleep(80);
    expect(aborted).toBe(true);
    expect(reason).toBeInstanceOf(SkillTimeoutError);
  });

  it('ctx.logger is a child logger bound to the request id and the skill', async () => {
    const bindings: Record<string, unknown>[] = [];
    const lines: object[] = [];
    const capture = (b: Record<string, unknown>): Logger => ({
      trace: () => undefined,
      debug: () => undefined,
      info: (obj) => lines.push({ ...b, ...obj }),
      warn: () => undefined,
      error: () => undefined,
      child: (more) => {
        bindings.push(more);
        return capture({ ...b, ...more });
      },
    });
    const app = makeApp(
      [
        {
          operationId: 'logs',
          summary: 'Logs',
          description: 'Writes a log line.',
          input: z.object({}),
          handler: (_i, ctx) => {
            ctx.logger.info({ step: 1 }, 'hello');
            ctx.logger.info({ step: 2 }, 'again');
            return {};
          },
        },
      ],
      capture({}),
    );
    const res = await app.handleGraph(graph('/v1/actions/logs?x=1', '{}'));
    expect(res.statusLine.code).toBe(200);
    expect(bindings).toEqual([{ requestId: 'm-ctx', skill: 'logs' }]);
    expect(lines).toEqual([
      { requestId: 'm-ctx', skill: 'logs', step: 1 },
      { requestId: 'm-ctx', skill: 'logs', step: 2 },
    ]);
  });

  it('builds the input from query, body and path: later wins; no context params, token or prototype change', async () => {
    let input: Record<string, unknown> | undefined;
    const app = makeApp([
      {
        operationId: 'take',
        summary: 'Take',
        description: 'Takes its input.',
        path: '/v1/actions/take/{region}',
        input: z.object({
          region: z.string(),
          name: z.string(),
          userId: z.string().optional(),
          isAdmin: z.boolean().optional(),
        }),
        handler: (i) => {
          input = i;
          return {};
        },
      },
    ]);
    const res = await app.handleGraph(
      graph(
        '/v1/actions/take/east?name=fromQuery&corpId=dingcorp&region=fromQuery',
        '{"name":"fromBody","userId":"u1","corpId":"c2","accessToken":"tok","__proto__":{"isAdmin":true}}',
      ),
    );
    expect(res.statusLine.code).toBe(200);
    // userId is in the schema, so it stays; corpId (not in it) and the token never reach the input.
    expect(input).toEqual({ region: 'east', name: 'fromBody', userId: 'u1' });
    expect(input?.isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
  });
});
