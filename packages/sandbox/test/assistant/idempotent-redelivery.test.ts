import { SEED_APP } from '@dingtalk-skills/sandbox';
import { defineApp, generateSpecYaml, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import crm from '../../../../examples/crm/app.js';
import { createTodo } from '../../../../examples/crm/skills/todos.js';
import type { InvokeOutcome } from '../../src/assistant/index.js';
import { eventually } from '../gateway/support.js';
import { type Harness, http, startHarness } from './harness.js';

/**
 * CALLBACK redelivery is on by default (20 s, then 60 s on the sandbox clock). The example CRM app's
 * `createTodo` runs longer than the platform's wait (the to-do API is slowed down with an injected
 * fault), so its answer is lost; the clock is advanced and the gateway sends the same request again
 * under a new messageId. The skill is `idempotent`: the redelivery is answered with the first run's
 * result and exactly one to-do exists. Without `idempotent`, the same scenario creates two.
 */

const CLIENT = SEED_APP.clientId;
const TODO_PATH = '/v1.0/todo/users/me/personalTasks';
/** The platform's wait for an answer (real time); the slowed to-do API takes longer. */
const CALLBACK_TIMEOUT_MS = 1_500;
const SLOW_API_MS = 3_000;

let h: Harness | undefined;
let app: RunningApp | undefined;
afterEach(async () => {
  await app?.stop();
  await h?.close();
  app = undefined;
  h = undefined;
});

async function setUp(skills: typeof crm): Promise<Harness> {
  const sandbox = await startHarness({ callbackTimeoutMs: CALLBACK_TIMEOUT_MS });
  h = sandbox;
  app = await startApp(skills, {
    clientId: CLIENT,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.clock.now(),
    skillTimeoutMs: 20_000,
  });
  const yaml = generateSpecYaml(skills.skills, { title: skills.name, protocol: 'stream' });
  const res = await http(sandbox.url, 'POST', '/sandbox/skills', yaml, {
    'content-type': 'application/yaml',
  });
  expect(res.status).toBe(200);
  // First use: consent and a to-do created at normal speed, so the app holds zhangsan's token.
  const warm = await http<InvokeOutcome>(sandbox.url, 'POST', '/sandbox/assistant/invoke', {
    operationId: 'createTodo',
    userId: 'zhangsan',
    params: { subject: 'warm-up' },
    autoConsent: true,
  });
  expect(warm.body.transcript.at(-1)?.step).toBe('result');
  return sandbox;
}

/** Runs createTodo once with the to-do API slower than the platform's wait, then lets the redelivery happen. */
async function slowCreateThenRedeliver(sandbox: Harness, subject: string) {
  const fault = await http(sandbox.url, 'POST', '/sandbox/faults/openapi', {
    path: TODO_PATH,
    mode: 'delay',
    delayMs: SLOW_API_MS,
    times: 1,
  });
  expect(fault.status).toBe(200);
  const since = sandbox.gateway.deliveryLog.lastSeq;
  const first = await http<InvokeOutcome>(sandbox.url, 'POST', '/sandbox/assistant/invoke', {
    operationId: 'createTodo',
    userId: 'zhangsan',
    params: { subject },
  });
  expect(first.body.transcript.at(-1)?.step).not.toBe('result'); // the answer did not come in time
  const callbacks = () =>
    sandbox.gateway.deliveryLog
      .since(since)
      .filter((r) => r.type === 'CALLBACK' && r.topic === '/v1.0/graph/api/invoke');
  await eventually(() => callbacks()[0]?.outcome === 'timeout', 10_000);
  // The first run finishes on its own (its late answer is only logged), then the redelivery is due.
  await eventually(() => callbacks()[0]?.ack !== undefined, 15_000);
  const advanced = await http(sandbox.url, 'POST', '/sandbox/clock/advance', { ms: 20_000 });
  expect(advanced.status).toBe(200);
  await eventually(() => callbacks()[1]?.outcome === 'answered', 15_000);
  const [attempt1, attempt2] = callbacks();
  expect(attempt2?.attempt).toBe(2);
  expect(attempt2?.messageId).not.toBe(attempt1?.messageId);
  const data = await http<{ todos: Array<{ subject: string; taskId: string }> }>(
    sandbox.url,
    'GET',
    '/sandbox/users/zhangsan/data',
  );
  return { todos: data.body.todos.filter((t) => t.subject === subject), attempt1, attempt2 };
}

describe('a redelivered createTodo', () => {
  it('creates ONE to-do: the idempotent skill answers the redelivery with the first run’s result', async () => {
    const sandbox = await setUp(crm);
    const { todos, attempt1, attempt2 } = await slowCreateThenRedeliver(sandbox, '只建一次 Once');
    expect(todos).toHaveLength(1);
    // The first answer arrived late (after the platform gave up); the redelivery's answer is the same.
    expect(attempt1?.ack?.late).toBe(true);
    const taskId = todos[0]?.taskId;
    expect(JSON.stringify(attempt2?.ack)).toContain(taskId);
    expect(JSON.stringify(attempt1?.ack)).toContain(taskId);
  }, 90_000);

  it('without idempotent the same redelivery creates a second to-do (why the option exists)', async () => {
    const plain = defineApp({ ...crm, skills: [{ ...createTodo, idempotent: false }] });
    const sandbox = await setUp(plain);
    const { todos } = await slowCreateThenRedeliver(sandbox, '建了两次 Twice');
    expect(todos).toHaveLength(2);
  }, 90_000);
});
