import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform } from '../platform/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('consent page in a real browser (Chromium)', () => {
  let h: PlatformHarness;
  let browser: Browser;
  let callback: string;

  beforeAll(async () => {
    // The app's own callback, served on the same loopback server: echoes what it received.
    h = await startPlatform({}, (app) =>
      app.get('/test-callback', async (request) => ({ received: request.query })),
    );
    callback = `${h.base}/test-callback`;
    await h.call(`/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
      method: 'POST',
      json: { uri: callback },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const open = async () => {
    const page = await browser.newPage();
    const q = new URLSearchParams({
      redirect_uri: callback,
      response_type: 'code',
      client_id: SEED_APP.clientId,
      scope: 'openid Todo.PersonalTodo.Write Calendar.Event.Read',
      state: 'browser-state',
      prompt: 'consent',
    });
    await page.goto(`${h.base}/oauth2/auth?${q}`);
    return page;
  };

  test('shows the app and permissions; choosing a user and Approve lands on the callback with a code', async () => {
    const page = await open();
    expect(await page.locator('#app-name').textContent()).toBe(SEED_APP.name);
    const perms = await page.locator('#permissions li').allTextContents();
    expect(perms.some((p) => p.includes('创建个人待办'))).toBe(true);
    expect(perms.some((p) => p.includes('Read your calendar'))).toBe(true);
    // Avatars are served by the sandbox itself and load.
    const avatarWidth = await page
      .locator('label.account img')
      .first()
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(avatarWidth).toBeGreaterThan(0);
    await page.locator('input[value="lisi"]').check();
    await page.getByRole('button', { name: /Approve/ }).click();
    await page.waitForURL(/\/test-callback\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get('code')).toMatch(/^[0-9a-f]{32}$/);
    expect(url.searchParams.get('authCode')).toBe(url.searchParams.get('code'));
    expect(url.searchParams.get('state')).toBe('browser-state');
    const grants = await h.call('/sandbox/grants?userId=lisi');
    expect(grants.body.grants[0].scopes).toContain('Calendar.Event.Read');
    await page.close();
  });

  test('Deny lands on the callback with error=access_denied', async () => {
    const page = await open();
    await page.getByRole('button', { name: /Deny/ }).click();
    await page.waitForURL(/\/test-callback\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('state')).toBe('browser-state');
    await page.close();
  });
});
