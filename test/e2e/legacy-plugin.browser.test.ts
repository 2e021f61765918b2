/**
 * The seed's legacy AI plugin (AI 插件) flow as a user sees it, in Debian's Chromium: a small app built
 * with the SDK (its legacy plugin receiver answers `/v1.0/agi/plugins/callback`) is registered in the
 * sandbox as a legacy plugin. A fresh user runs its ability from the page: the plugin gets no
 * `accessToken` in `data` and answers `{success:false, code:"InvalidAuthentication", requestId}`; the
 * page shows the authorization card (skill-triggered); the user consents on the consent page; the
 * plugin runs once more with a fresh token in `data` and the result card shows what it did as the user.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import {
  defineApp,
  defineSkill,
  generateSpecYaml,
  type RunningApp,
  silentLogger,
  startApp,
} from '@dingtalk-skills/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { ROOT } from './dev-process.js';

const SHOTS = join(ROOT, 'artifacts', 'screenshots');

const addTodo = defineSkill({
  operationId: 'pluginAddTodo',
  summary: '插件创建待办 Plugin: add a to-do',
  description: 'A legacy AI plugin ability: creates a personal to-do as the user. 以用户身份创建个人待办。',
  method: 'POST',
  path: '/v1/plugin/todos',
  input: z.object({ subject: z.string().min(1).max(256).describe('待办标题 To-do subject') }),
  output: z.object({ taskId: z.string(), subject: z.string() }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => {
    const created = await ctx.userApi.todo.create({ subject: input.subject });
    return { taskId: created.taskId, subject: input.subject };
  },
});

const pluginApp = defineApp({ name: 'Plugin e2e', version: '1.0.0', skills: [addTodo] });

describe.skipIf(!existsSync(CHROMIUM))('a legacy AI plugin from the page (SDK app + Chromium)', () => {
  let sandbox: Sandbox;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    sandbox = await createSandbox({ logger: silentLogger(), pingIntervalMs: 0, ephemeral: true });
    app = await startApp(pluginApp, {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger: silentLogger(),
      now: () => sandbox.context.clock.now(),
    });
    // The SDK's skills app subscribes the legacy plugin topic next to the Graph API one.
    await sandbox.gateway.waitForConnection(
      { clientId: SEED_APP.clientId, type: 'CALLBACK', topic: '/v1.0/agi/plugins/callback' },
      10_000,
    );
    const yaml = generateSpecYaml(pluginApp.skills, { title: pluginApp.name, protocol: 'stream' });
    const reg = await fetch(`${sandbox.url}/sandbox/skills`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ yaml, legacyPlugin: { pluginId: 'AI-e2e-plugin', pluginVersion: '1.0.0' } }),
    });
    expect(reg.status).toBe(200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`${msg.text()} ${msg.location().url}`);
    });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await sandbox?.close();
  }, 20_000);

  it('plugin answers {success:false, code} -> card -> consent page -> one re-run with a fresh token -> result', async () => {
    await page.goto(`${sandbox.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByTestId('user-select').selectOption('lisi');
    await expect.poll(() => page.getByTestId('app-status').textContent()).toContain('已连接 connected');
    expect(await page.getByTestId('legacy-plugin-pluginAddTodo').textContent()).toContain('AI-e2e-plugin');

    await page.getByTestId('skill-pluginAddTodo').click();
    await page.getByTestId('param-subject').fill('插件 e2e 待办');
    await page.getByTestId('skill-submit').click();

    // The plugin was called without a token and answered the seed's structure: a skill-triggered card.
    const card = page.locator('[data-testid="auth-card"][data-state="pending"]');
    await card.waitFor();
    expect(await card.getByTestId('auth-card-trigger').textContent()).toContain('skill-triggered');
    expect(await card.textContent()).toContain('InvalidAuthentication');
    expect(await card.getByTestId('auth-card-scopes').textContent()).toContain('Todo.PersonalTodo.Write');
    await card.screenshot({ path: join(SHOTS, 'legacy-plugin-card.png') });

    await card.getByTestId('auth-card-authorize').click();
    await page.waitForURL((u) => u.pathname === '/oauth2/auth');
    expect(new URL(page.url()).searchParams.get('login_hint')).toBe('lisi');
    await page.getByTestId('consent-approve').click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.locator('body[data-ready="true"]').waitFor();

    const result = page.getByTestId('result-card');
    await result.waitFor();
    expect(await result.getByTestId('result-field-subject').textContent()).toBe('插件 e2e 待办');
    expect(await page.getByTestId('rerun-note').textContent()).toContain('accessToken');
    await result.screenshot({ path: join(SHOTS, 'legacy-plugin-result.png') });

    // What the platform saw: two plugin calls, the to-do created as lisi.
    const conversations = (await (
      await fetch(`${sandbox.url}/sandbox/assistant/conversations?userId=lisi`)
    ).json()) as {
      conversations: Array<{ invocations: Array<{ skillCalls: number; operationId: string }> }>;
    };
    const inv = conversations.conversations[0]!.invocations.at(-1)!;
    expect(inv).toMatchObject({ operationId: 'pluginAddTodo', skillCalls: 2 });
    const todos = sandbox.platform.repos.todos.listFor('union-lisi', { offset: 0, limit: 100 }).items;
    expect(todos.map((t) => t.subject)).toContain('插件 e2e 待办');
    const plugins = sandbox.gateway.deliveries().filter((d) => d.topic === '/v1.0/agi/plugins/callback');
    expect(plugins.map((d) => d.outcome)).toEqual(['answered', 'answered']);
    expect(pageErrors).toEqual([]);
  }, 45_000);
});
