/**
 * The authorization flow as a user sees it: `dingtalk-skills dev examples/crm` started as a process, the
 * assistant page driven in Debian's Chromium. A fresh user runs createTodo, gets the authorization card,
 * consents on the sandbox's consent page, sees the result; after "expire token" (access and refresh
 * tokens) the next run shows the card again. Screenshots of each card go to artifacts/screenshots/.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { type DevProcess, ROOT, startDev } from './dev-process.js';

const SHOTS = join(ROOT, 'artifacts', 'screenshots');
/** `UPDATE_DOCS_SCREENSHOTS=1` also writes the README's images (docs/screenshots/). */
const DOCS_SHOTS =
  process.env.UPDATE_DOCS_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : undefined;
const APP_NAME = 'Sandbox CRM 客户管理';

describe.skipIf(!existsSync(CHROMIUM))(
  'the authorization flow in the browser (dev examples/crm + Chromium)',
  () => {
    let dev: DevProcess;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      if (DOCS_SHOTS) mkdirSync(DOCS_SHOTS, { recursive: true });
      [dev, browser] = await Promise.all([startDev(), launchChromium()]);
      page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') pageErrors.push(`${msg.text()} ${msg.location().url}`);
      });
    }, 40_000);

    afterAll(async () => {
      await browser?.close();
      if (!dev) return;
      const stopped = await dev.stop(10_000);
      expect(stopped.signal, `dev did not stop on SIGTERM:\n${dev.output()}`).toBeNull();
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(10_000);
    }, 20_000);

    async function shot(locator: Locator, name: string): Promise<void> {
      const png = await locator.screenshot({ path: join(SHOTS, `${name}.png`) });
      if (DOCS_SHOTS) writeFileSync(join(DOCS_SHOTS, `${name}.png`), png);
    }

    async function runCreateTodo(subject: string): Promise<void> {
      await page.getByTestId('skill-createTodo').click();
      await page.getByTestId('param-subject').fill(subject);
      await page.getByTestId('skill-submit').click();
    }

    it('card -> consent page -> result; after "expire token" the card comes back', async () => {
      await page.goto(`${dev.url}/`);
      await page.locator('body[data-ready="true"]').waitFor();
      await page.getByTestId('user-select').selectOption('zhangsan');
      await expect.poll(() => page.getByTestId('app-status').textContent()).toContain('已连接 connected');

      // 1. A fresh user: the platform sees no grant and shows the card before calling the skill.
      await runCreateTodo('准备周会材料 e2e');
      const card = page.locator('[data-testid="auth-card"][data-state="pending"]');
      await card.waitFor();
      expect(await card.getByTestId('auth-card-app').textContent()).toBe(APP_NAME);
      expect(await card.getByTestId('auth-card-trigger').textContent()).toContain('platform-triggered');
      expect(await card.getByTestId('auth-card-trigger').getAttribute('title')).toBe('InvalidAuthentication');
      expect(await card.textContent()).toContain('InvalidAuthentication');
      const scopes = card.getByTestId('auth-card-scopes');
      expect(
        await scopes.locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-scope'))),
      ).toEqual(['Todo.PersonalTodo.Write']);
      expect(await scopes.textContent()).toContain('Todo.PersonalTodo.Write');
      await shot(card, 'auth-card');

      // 2. Authorize -> the sandbox's consent page (login.dingtalk.com's /oauth2/auth) for this app.
      await card.getByTestId('auth-card-authorize').click();
      await page.waitForURL((u) => u.pathname === '/oauth2/auth');
      const consentUrl = new URL(page.url());
      expect(consentUrl.searchParams.get('client_id')).toBe('dingsandboxapp001');
      expect(consentUrl.searchParams.get('login_hint')).toBe('zhangsan');
      expect(await page.locator('#app-name').textContent()).toBe(APP_NAME);
      const permissions = await page.locator('#permissions').textContent();
      expect(permissions).toContain('Todo.PersonalTodo.Write');
      expect(await page.locator('input[name="userId"][value="zhangsan"]').isChecked()).toBe(true);
      await shot(page.locator('main'), 'consent-page');

      // 3. Approve -> callback with the code -> the skill runs once more with oauthAuthCode -> result card.
      await page.getByTestId('consent-approve').click();
      await page.waitForURL((u) => u.pathname === '/');
      await page.locator('body[data-ready="true"]').waitFor();
      const result = page.getByTestId('result-card');
      await result.waitFor();
      expect(await result.getByTestId('result-field-subject').textContent()).toBe('准备周会材料 e2e');
      expect(await result.getByTestId('result-field-taskId').textContent()).toMatch(/^task[0-9a-f]+$/);
      expect(await page.getByTestId('consent-note').getAttribute('data-decision')).toBe('approve');
      expect(await page.getByTestId('rerun-note').textContent()).toContain('oauthAuthCode');
      expect(await page.locator('[data-testid="auth-card"][data-state="pending"]').count()).toBe(0);
      await shot(result, 'result-card');

      // 4. "Expire token": access and refresh tokens expire -> the app cannot refresh -> the skill's
      //    InvalidAuthentication answer makes the assistant show the card again.
      await page.getByTestId('expire-token').click();
      await expect
        .poll(() => page.getByTestId('fault-log').locator('li').first().textContent())
        .toContain('1 access + 1 refresh token(s) expired');
      await runCreateTodo('第二条 second');
      const second = page.locator('[data-testid="auth-card"][data-state="pending"]');
      await second.waitFor();
      expect(await page.getByTestId('auth-card').count()).toBe(2);
      expect(await second.getByTestId('auth-card-trigger').textContent()).toContain('skill-triggered');
      expect(await second.textContent()).toContain('InvalidAuthentication');
      expect(await second.getByTestId('auth-card-scopes').textContent()).toContain('Todo.PersonalTodo.Write');
      expect(await page.getByTestId('result-card').count()).toBe(1);
      await shot(second, 'auth-card-again');
      await page.screenshot({ path: join(SHOTS, 'page-after-expire.png') });

      expect(pageErrors).toEqual([]);
    }, 45_000);
  },
);
