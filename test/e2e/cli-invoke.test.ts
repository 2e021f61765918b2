/**
 * The CLI as a user runs it: `dingtalk-skills invoke` against a `dingtalk-skills dev examples/crm`
 * process (sandbox + the example app over a real Stream connection), plus its input errors and `spec`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProcess, runCli, startDev } from './dev-process.js';

interface Step {
  step: string;
  [key: string]: unknown;
}

let dev: DevProcess;
beforeAll(async () => {
  dev = await startDev('examples/crm', 25_000, ['--ops-port', '0']);
});
afterAll(async () => {
  const stopped = await dev?.stop();
  expect(stopped?.code).toBe(0);
});

const invoke = (...args: string[]) => runCli(['invoke', ...args, '--sandbox', dev.url]);

describe('dingtalk-skills dev --ops-port', () => {
  it('serves /readyz and /metrics for the app; the metrics count the invocations', async () => {
    const ops = /ops endpoints\s+(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(dev.output())?.[1];
    expect(ops, dev.output()).toBeDefined();
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    const run = await invoke('whoami', '--user', 'lisi', '--auto-consent', '--json');
    expect(run.code).toBe(0);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('dingtalk_skill_invocations_total{') &&
          l.includes('skill="whoami"') &&
          l.includes('outcome="ok"'),
      );
    expect(line, metrics).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('dingtalk_stream_connections');
  });
});

describe('dingtalk-skills invoke', () => {
  it('--auto-consent: authorization card, headless consent, then the result naming 张三 (exit 0)', async () => {
    const run = await invoke('whoami', '--user', 'zhangsan', '--auto-consent', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const steps = JSON.parse(run.stdout) as Step[];
    expect(steps.map((s) => s.step)).toEqual(['invoke', 'auth_card', 'consent', 'invoke', 'result']);
    const card = steps[1]!;
    expect(card).toMatchObject({ trigger: 'platform', code: 'InvalidAuthentication', userId: 'zhangsan' });
    expect(card.requestedScopes).toContain('Contact.User.Read');
    expect(steps[2]).toMatchObject({ decision: 'approve', via: 'headless' });
    expect(steps[3]).toMatchObject({ attempt: 2, withAuthCode: true });
    expect(steps[4]).toMatchObject({
      status: 200,
      body: { name: '张三', unionId: 'union-zhangsan' },
    });
    // Consented once: the next call runs straight through with the stored token.
    const again = await invoke('whoami', '--user', 'zhangsan', '--json');
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as Step[]).map((s) => s.step)).toEqual(['invoke', 'result']);
  });

  it('without --auto-consent a fresh user gets the card with a consentUrl and exit code 3', async () => {
    const run = await invoke('createTodo', '--user', 'lisi', '--data', '{"subject":"e2e cli"}', '--json');
    expect(run.code).toBe(3);
    const steps = JSON.parse(run.stdout) as Step[];
    expect(steps.map((s) => s.step)).toEqual(['invoke', 'auth_card']);
    const consentUrl = new URL(String(steps[1]!.consentUrl));
    expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${dev.url}/oauth2/auth`);
    expect(consentUrl.searchParams.get('client_id')).toBe('dingsandboxapp001');
    expect(consentUrl.searchParams.get('scope')?.split(' ')).toContain('Todo.PersonalTodo.Write');
    expect(consentUrl.searchParams.get('login_hint')).toBe('lisi');
    // The text form says the same and tells what to do.
    const text = await invoke('createTodo', '--user', 'lisi', '--data', '{"subject":"e2e cli"}');
    expect(text.code).toBe(3);
    expect(text.stdout).toContain('authorization card');
    expect(text.stdout).toContain(`consent at ${dev.url}/oauth2/auth?`);
    expect(text.stdout).toContain('--auto-consent');
  });

  it('an unknown skill is a clear error and a non-zero exit', async () => {
    const run = await invoke('noSuchSkill', '--user', 'zhangsan', '--json');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    // The sandbox's answer names the skill and lists the registered ones.
    expect(run.stderr).toContain('unknownSkill');
    expect(run.stderr).toContain('no registered action \\"noSuchSkill\\"'); // JSON-escaped quotes
    expect(run.stderr).toMatch(/registered: .*whoami/);
  });

  it('bad --data JSON exits 2 (usage) with a message naming --data, without calling the sandbox', async () => {
    const run = await invoke('createTodo', '--user', 'zhangsan', '--data', '{subject:');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--data');
    expect(run.stdout).toBe('');
    const notObject = await invoke('createTodo', '--user', 'zhangsan', '--data', '[1,2]');
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain('--data must be a JSON object');
  });

  it('a bad --callback-redelivery list exits 2 naming the flag and the expected form', async () => {
    const run = await runCli(['sandbox', '--callback-redelivery', '10,abc', '--ephemeral', '--port', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--callback-redelivery must be up to 100 comma-separated delays in ms');
  });

  it('no sandbox at the URL: a message that says how to start one, exit 5', async () => {
    const run = await runCli(['invoke', 'whoami', '--user', 'zhangsan', '--sandbox', 'http://127.0.0.1:9']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('no sandbox answers at http://127.0.0.1:9');
  });
});

describe('dingtalk-skills spec', () => {
  it('prints the YAML of examples/crm with x-dingtalk-protocol: stream', async () => {
    const run = await runCli(['spec', 'examples/crm']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^openapi: 3\.0/m);
    expect(run.stdout).toContain('x-dingtalk-protocol: stream');
    expect(run.stdout).toContain('operationId: createTodo');
    expect(run.stdout).toContain('Todo.PersonalTodo.Write');
  });
});
