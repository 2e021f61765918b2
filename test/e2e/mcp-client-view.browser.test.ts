/**
 * The assistant page's MCP client view, as a user sees it: `dingtalk-skills dev examples/crm --mcp-port 0`
 * started as a process, the page driven in Debian's Chromium. As 张三: MCP view → list tools (401 →
 * our consent page → the sandbox's DingTalk consent page → back) → call whoami → result 张三; then the
 * fault panel removes Contact.User.Read at DingTalk → the next call is answered 403 insufficient_scope →
 * step-up through both consent pages again → result. Screenshots go to artifacts/screenshots/.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { type DevProcess, ROOT, startDev } from './dev-process.js';

const SHOTS = join(ROOT, 'artifacts', 'screenshots');
/** `UPDATE_DOCS_SCREENSHOTS=1` also writes docs/screenshots/mcp-client-view.png (docs/mcp.md). */
const DOCS_SHOTS =
  process.env.UPDATE_DOCS_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : undefined;

describe.skipIf(!existsSync(CHROMIUM))(
  'the MCP client view in the browser (dev --mcp-port + Chromium)',
  () => {
    let dev: DevProcess;
    let mcpUrl: string;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      if (DOCS_SHOTS) mkdirSync(DOCS_SHOTS, { recursive: true });
      [dev, browser] = await Promise.all([
        startDev('examples/crm', 30_000, ['--mcp-port', '0']),
        launchChromium(),
      ]);
      mcpUrl = /mcp\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(dev.output())?.[1] ?? '';
      page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        // The MCP server's pages are another origin; only the sandbox page's own errors count.
        if (msg.type() === 'error' && msg.location().url.startsWith(dev.url))
          pageErrors.push(`${msg.text()} ${msg.location().url}`);
      });
    }, 50_000);

    afterAll(async () => {
      await browser?.close();
      if (!dev) return;
      const stopped = await dev.stop(10_000);
      expect(stopped.code, dev.output()).toBe(0);
    }, 20_000);

    /** `docsName`: also docs/screenshots/<docsName>.png with UPDATE_DOCS_SCREENSHOTS=1 (docs/mcp.md). */
    async function shot(locator: Locator, name: string, docsName?: string): Promise<void> {
      const png = await locator.screenshot({ path: join(SHOTS, `${name}.png`) });
      if (DOCS_SHOTS && docsName) writeFileSync(join(DOCS_SHOTS, `${docsName}.png`), png);
    }

    /** From a pending challenge: our consent page, then the sandbox's DingTalk consent page as 张三, back. */
    async function walkBothConsentPages(expectScope: string): Promise<void> {
      const authorize = page.getByTestId('mcp-authorize');
      await authorize.waitFor();
      await authorize.click();
      // 1. Our consent page (授权 MCP 客户端), served by the MCP server's authorization server.
      await page.waitForURL((u) => u.origin === new URL(mcpUrl).origin);
      await page.locator('[data-client-name]').waitFor();
      expect(await page.locator('h1').textContent()).toContain('授权 MCP 客户端');
      expect(await page.locator('[data-client-name]').textContent()).toContain('MCP client view');
      expect(await page.locator('[data-scopes]').textContent()).toContain(expectScope);
      expect(await page.locator('[data-redirect-uri]').textContent()).toBe(`${dev.url}/sandbox/mcp/callback`);
      await page.locator('button[value="approve"]').click();
      // 2. DingTalk's login and consent page (the sandbox plays login.dingtalk.com).
      await page.waitForURL((u) => u.origin === dev.url && u.pathname === '/oauth2/auth');
      expect(await page.locator('#permissions').textContent()).toContain(expectScope);
      await page.locator('input[name="userId"][value="zhangsan"]').check();
      await page.getByTestId('consent-approve').click();
      // 3. Back through the MCP server's DingTalk callback and the sandbox's MCP callback to the page.
      await page.waitForURL((u) => u.origin === dev.url && u.pathname === '/');
      await page.locator('body[data-ready="true"]').waitFor();
      await page.locator('[data-testid="mcp-view"]:not([hidden])').waitFor();
    }

    it('lists tools and calls whoami as 张三 through both consent pages; step-up after a scope is removed', async () => {
      expect(mcpUrl, dev.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      await page.goto(`${dev.url}/`);
      await page.locator('body[data-ready="true"]').waitFor();
      await page.getByTestId('user-select').selectOption('zhangsan');
      await page.getByTestId('chat-tab-mcp').click();
      await page.locator('[data-testid="mcp-view"]:not([hidden])').waitFor();
      expect(await page.getByTestId('mcp-endpoint').textContent()).toBe(mcpUrl);
      expect(await page.getByTestId('conversation').isHidden()).toBe(true);

      // 1. List tools: no token yet → 401 with WWW-Authenticate → the authorization link.
      await page.getByTestId('mcp-list-tools').click();
      const refused = page.locator('[data-testid="mcp-step"][data-step="refused"]').first();
      await refused.waitFor();
      expect(await refused.getAttribute('data-status')).toBe('401');
      expect(await refused.getByTestId('mcp-www-authenticate').textContent()).toMatch(
        /Bearer .*resource_metadata="/,
      );
      await shot(page.getByTestId('mcp-view'), 'mcp-challenge');
      await walkBothConsentPages('Contact.User.Read');
      // The waiting tools/list ran again after the token exchange.
      await page.getByTestId('mcp-tool-whoami').waitFor();
      expect(await page.getByTestId('mcp-tools').textContent()).toContain('createTodo');
      expect(await page.getByTestId('mcp-token').textContent()).toContain('Contact.User.Read');

      // 2. Call whoami (a user-token skill): the result is 张三's profile.
      await page.getByTestId('mcp-tool-whoami').click();
      expect(JSON.parse(await page.getByTestId('mcp-args').inputValue())).toEqual({});
      await page.getByTestId('mcp-call').click();
      const first = page.getByTestId('mcp-result').first();
      await first.waitFor();
      expect(await first.getAttribute('data-is-error')).toBe('false');
      expect(await first.getByTestId('mcp-result-field-name').textContent()).toBe('张三');
      await shot(page.getByTestId('mcp-view'), 'mcp-client-view');

      // 3. The fault panel removes Contact.User.Read from 张三's DingTalk grant.
      await expect
        .poll(async () => page.getByTestId('scope-select').locator('option').allTextContents())
        .toContain('Contact.User.Read');
      await page.getByTestId('scope-select').selectOption('Contact.User.Read');
      await page.getByTestId('remove-scope').click();
      await expect
        .poll(() => page.getByTestId('fault-log').locator('li').first().textContent())
        .toContain('Contact.User.Read removed');

      // 4. The next call: 403 insufficient_scope → step-up through both consent pages → the result.
      await page.getByTestId('mcp-call').click();
      const forbidden = page.locator('[data-testid="mcp-step"][data-step="refused"][data-status="403"]');
      await forbidden.waitFor();
      expect(await forbidden.getByTestId('mcp-www-authenticate').textContent()).toMatch(
        /error="insufficient_scope".*scope="[^"]*Contact\.User\.Read/,
      );
      expect(await forbidden.textContent()).toContain('step-up');
      await shot(page.getByTestId('mcp-view'), 'mcp-step-up', 'mcp-client-view');
      await walkBothConsentPages('Contact.User.Read');
      await expect.poll(() => page.getByTestId('mcp-result').count()).toBe(2);
      const second = page.getByTestId('mcp-result').last();
      expect(await second.getAttribute('data-is-error')).toBe('false');
      expect(await second.getByTestId('mcp-result-field-name').textContent()).toBe('张三');
      expect(await page.locator('[data-testid="mcp-step"][data-step="authorized"]').count()).toBe(2);
      await page.screenshot({ path: join(SHOTS, 'mcp-client-view-page.png') });

      expect(pageErrors).toEqual([]);
    }, 120_000);
  },
);
