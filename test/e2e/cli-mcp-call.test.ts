/**
 * `dingtalk-skills dev examples/crm --mcp-port 0` (the sandbox's OAuth page plays DingTalk's login) and
 * the headless `dingtalk-skills mcp call`, as a user runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProcess, runCli, startDev } from './dev-process.js';

let dev: DevProcess;
let mcpUrl: string;
beforeAll(async () => {
  dev = await startDev('examples/crm', 25_000, ['--mcp-port', '0']);
  mcpUrl = /mcp\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(dev.output())?.[1] ?? '';
}, 40_000);
afterAll(async () => {
  const stopped = await dev?.stop();
  expect(stopped?.code).toBe(0);
});

const mcpCall = (...args: string[]) => runCli(['mcp', 'call', ...args, '--url', mcpUrl], 30_000);

describe('dingtalk-skills mcp call', () => {
  it('dev prints the MCP endpoint and its DingTalk callback', () => {
    expect(mcpUrl, dev.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(dev.output()).toContain('/oauth/dingtalk/callback');
  });

  it('--auto-consent: 401, both consent pages, token, then whoami as 张三 (exit 0)', async () => {
    const run = await mcpCall('whoami', '--user', 'zhangsan', '--auto-consent', '--json');
    expect(run.code, run.stderr).toBe(0);
    const steps = JSON.parse(run.stdout) as { step: string; kind?: string; [k: string]: unknown }[];
    expect(steps.map((s) => s.kind ?? s.step)).toEqual([
      'connect',
      'refused',
      'challenge',
      'app_consent',
      'dingtalk_consent',
      'callback',
      'token',
      'call',
      'result',
    ]);
    expect(steps[1]).toMatchObject({ status: 401 });
    expect(steps.at(-1)).toMatchObject({ isError: false, structuredContent: { name: '张三' } });
  });

  it('the human transcript for 李四 creating a to-do', async () => {
    const run = await mcpCall(
      'createTodo',
      '--user',
      'lisi',
      '--data',
      '{"subject":"买牛奶"}',
      '--auto-consent',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('← 401 (sign in) WWW-Authenticate: Bearer');
    expect(run.stdout).toContain('✔ DingTalk consent page');
    expect(run.stdout).toMatch(/✅ result .*买牛奶/);
  });

  it('without --auto-consent it stops at the challenge (exit 3)', async () => {
    const run = await mcpCall('whoami', '--user', 'zhangsan');
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('🔐 authorize (OAuth 2.1 + PKCE)');
    expect(run.stdout).toContain('pass --auto-consent');
  });

  it('bad --data is a usage error (exit 2); nothing listening is exit 5', async () => {
    expect((await mcpCall('whoami', '--user', 'zhangsan', '--data', '[1]')).code).toBe(2);
    const run = await runCli([
      'mcp',
      'call',
      'whoami',
      '--user',
      'zhangsan',
      '--url',
      'http://127.0.0.1:1/mcp',
    ]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('no MCP server answers at http://127.0.0.1:1/mcp');
  });
});
