import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AnswerStore,
  type AnySkill,
  type AppApi,
  type CredentialResolver,
  defineSkill,
  type GraphRequest,
  MemoryStateStore,
  SkillsApp,
  silentLogger,
  type UserApi,
} from '../../src/internal.js';

/**
 * `ctx.invocationKey` is stable across a redelivery (same data, new messageId) and `idempotent`
 * skills run once per key: a redelivery gets the remembered answer, a concurrent duplicate waits for
 * the first run, failures are not remembered, and a failing store does not stop the skill.
 */

const resolver: CredentialResolver = { resolve: async () => undefined };

function makeApp(skills: AnySkill[], answerStore?: AnswerStore) {
  return new SkillsApp({
    skills,
    logger: silentLogger(),
    credentials: resolver,
    userApiFor: () => ({}) as UserApi,
    appApi: {} as AppApi,
    ...(answerStore ? { answerStore } : {}),
  });
}

function frame(messageId: string, body: unknown, headers: Record<string, string> = {}, uri?: string) {
  const req: GraphRequest = {
    requestLine: { method: 'POST', uri: uri ?? '/v1/actions/todo?userId=zhangsan&unionId=union-zhangsan' },
    headers: { 'content-type': 'application/json', 'x-ability-key': 'createThing', ...headers },
    body: JSON.stringify(body),
  };
  return { messageId, data: JSON.stringify(req) };
}

function counter(idempotent: boolean, behaviour: { delayMs?: number; fail?: () => boolean } = {}) {
  const runs: string[] = [];
  const skill = defineSkill({
    operationId: 'createThing',
    summary: 'Create a thing',
    description: 'Creates one thing per call.',
    path: '/v1/actions/todo',
    input: z.object({ subject: z.string() }),
    idempotent,
    handler: async (input, ctx) => {
      runs.push(ctx.invocationKey);
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      if (behaviour.fail?.()) throw new Error('side effect failed');
      return { id: `thing-${runs.length}`, subject: input.subject, key: ctx.invocationKey };
    },
  });
  return { skill, runs };
}

const bodyOf = (r: { body: string }) => JSON.parse(r.body) as { id: string; key: string };

describe('ctx.invocationKey', () => {
  it('is the same for a redelivery (new messageId) and differs for another request or request id', async () => {
    const { skill, runs } = counter(false);
    const app = makeApp([skill]);
    await app.handleGraph(frame('m-1', { subject: 'a' }, { 'x-request-id': 'r-1' }));
    await app.handleGraph(frame('m-2', { subject: 'a' }, { 'x-request-id': 'r-1' }));
    await app.handleGraph(frame('m-3', { subject: 'a' }, { 'x-request-id': 'r-2' }));
    await app.handleGraph(frame('m-4', { subject: 'b' }, { 'x-request-id': 'r-1' }));
    await app.handleGraph(
      frame(
        'm-5',
        { subject: 'a' },
        { 'x-request-id': 'r-1' },
        '/v1/actions/todo?userId=lisi&unionId=union-lisi',
      ),
    );
    expect(runs).toHaveLength(5);
    expect(runs[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(runs[1]).toBe(runs[0]);
    expect(new Set(runs).size).toBe(4);
  });
});

describe('idempotent skills', () => {
  it('a redelivery is answered with the remembered result without running the handler', async () => {
    const { skill, runs } = counter(true);
    const app = makeApp([skill]);
    const first = await app.handleGraph(frame('m-1', { subject: 'a' }, { 'x-request-id': 'r-1' }));
    const again = await app.handleGraph(frame('m-2', { subject: 'a' }, { 'x-request-id': 'r-1' }));
    expect(runs).toHaveLength(1);
    expect(again.statusLine.code).toBe(200);
    expect(bodyOf(again)).toEqual(bodyOf(first));
    const other = await app.handleGraph(frame('m-3', { subject: 'a' }, { 'x-request-id': 'r-2' }));
    expect(runs).toHaveLength(2);
    expect(bodyOf(other).id).toBe('thing-2');
  });

  it('a duplicate arriving while the first run is still going waits for its answer', async () => {
    const { skill, runs } = counter(true, { delayMs: 300 });
    const app = makeApp([skill]);
    const answers = await Promise.all(
      ['m-1', 'm-2', 'm-3'].map((m) =>
        app.handleGraph(frame(m, { subject: 'a' }, { 'x-request-id': 'r-1' })),
      ),
    );
    expect(runs).toHaveLength(1);
    expect(answers.map((a) => bodyOf(a).id)).toEqual(['thing-1', 'thing-1', 'thing-1']);
  });

  it('a failed run is not remembered: the redelivery runs again', async () => {
    let fail = true;
    const { skill, runs } = counter(true, { fail: () => fail });
    const app = makeApp([skill]);
    const first = await app.handleGraph(frame('m-1', { subject: 'a' }));
    expect(first.statusLine.code).toBe(500);
    fail = false;
    const again = await app.handleGraph(frame('m-2', { subject: 'a' }));
    expect(again.statusLine.code).toBe(200);
    expect(runs).toHaveLength(2);
  });

  it('the answers live in the given store, shared by two apps (instances) on it', async () => {
    const store = new MemoryStateStore({ logger: silentLogger() });
    try {
      const a = counter(true);
      const b = counter(true);
      await makeApp([a.skill], store).handleGraph(frame('m-1', { subject: 'a' }, { 'x-request-id': 'r-9' }));
      const onB = await makeApp([b.skill], store).handleGraph(
        frame('m-2', { subject: 'a' }, { 'x-request-id': 'r-9' }),
      );
      expect(a.runs).toHaveLength(1);
      expect(b.runs).toHaveLength(0);
      expect(bodyOf(onB).id).toBe('thing-1');
    } finally {
      await store.close();
    }
  });

  it('a failing store does not stop the skill: it runs without dedup', async () => {
    const broken: AnswerStore = {
      get: async () => {
        throw new Error('store down');
      },
      setIfAbsent: async () => {
        throw new Error('store down');
      },
      compareAndSwap: async () => {
        throw new Error('store down');
      },
      delete: async () => {
        throw new Error('store down');
      },
    };
    const { skill, runs } = counter(true);
    const res = await makeApp([skill], broken).handleGraph(frame('m-1', { subject: 'a' }));
    expect(res.statusLine.code).toBe(200);
    expect(runs).toHaveLength(1);
  });

  it('refuses a window that is not a positive integer', () => {
    expect(() =>
      defineSkill({
        operationId: 'x',
        summary: 'x',
        description: 'x',
        input: z.object({}),
        idempotent: { windowMs: 0 },
        handler: () => ({}),
      }),
    ).toThrow(/windowMs/);
  });
});
