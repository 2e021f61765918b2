/**
 * The example bot (`examples/bot`) under `dingtalk-skills dev`, as a user sees it in Chromium (issue 16's
 * "done when"): as 张三 in the single chat, "我今天有什么会?" → the authorization card → Authorize opens
 * the consent page → approve → the framework's callback page → the answer streams into an AI card from
 * 张三's calendar and finalizes; as 李四 in the group the same bot acts as 李四; a to-do is created as 张三
 * after the confirm card's 确认 button; a redelivered message runs once; with the card API QPS-limited
 * the reply still arrives in full.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { type DevProcess, ROOT, startDev } from './dev-process.js';

const SHOTS = join(ROOT, 'artifacts', 'screenshots');
const eventually = <T>(probe: () => T | Promise<T>, timeout = 20_000) =>
  expect.poll(probe, { timeout, interval: 100 });

describe.skipIf(!existsSync(CHROMIUM))('the example bot on the sandbox page (dev + Chromium)', () => {
  let dev: DevProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dev = await startDev('examples/bot', 40_000);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${dev.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 20_000);

  const conversation = () => page.getByTestId('bot-conversation');
  const lastCard = (): Locator => conversation().getByTestId('ai-card').last();

  async function openChat(userId: 'zhangsan' | 'lisi', view: 'single' | 'group'): Promise<void> {
    await page.getByTestId('user-select').selectOption(userId);
    await page.getByTestId(`chat-tab-${view}`).click();
    await eventually(() => page.getByTestId('bot-typing-as').textContent()).toContain(
      userId === 'zhangsan' ? '张三' : '李四',
    );
  }

  async function say(text: string): Promise<string> {
    // Not a count taken before sending: right after a chat switch the view may still show the other
    // chat (the page polls), and a loaded count raced the send under CI load. The new message is the
    // last one, with this text and a msg id not seen before.
    const messages = () => conversation().getByTestId('bot-user-message');
    const previous =
      (await messages().count()) > 0 ? await messages().last().getAttribute('data-msg-id') : null;
    await page.getByTestId('bot-input').fill(text);
    await page.getByTestId('bot-send').click();
    await eventually(async () => {
      const last = messages().last();
      return (
        (await last.getAttribute('data-msg-id')) !== previous && (await last.textContent())?.includes(text)
      );
    }).toBe(true);
    return (await messages().last().getAttribute('data-msg-id')) ?? '';
  }

  /** Presses the last Authorize button; approves on the consent page that opens; returns its final text. */
  async function authorize(): Promise<string> {
    const button = conversation().getByTestId('bot-reply-button').last();
    await eventually(() => button.textContent()).toContain('授权 Authorize');
    const [consent] = await Promise.all([page.context().waitForEvent('page'), button.click()]);
    await consent.waitForLoadState();
    await consent.getByTestId('consent-approve').click();
    await consent.waitForURL(/\/dingtalk\/bot\/consent\?/);
    const text = (await consent.locator('body').textContent()) ?? '';
    await consent.close();
    return text;
  }

  it('张三, single chat: the authorization card, consent, then his meetings stream into an AI card', async () => {
    await openChat('zhangsan', 'single');
    await say('我今天有什么会?');
    const card = conversation().getByTestId('bot-reply').last();
    await eventually(() => card.textContent()).toContain('查看你的日程 Read your calendar');
    await card.screenshot({ path: join(SHOTS, 'example-bot-authorization-card.png') });
    expect(await authorize()).toContain('授权成功');
    await eventually(() => lastCard().getAttribute('data-state')).toBe('finished');
    const text = (await lastCard().getByTestId('ai-card-text').textContent()) ?? '';
    expect(text).toContain('张三今天');
    expect(text).toContain('客户拜访');
    await lastCard().screenshot({ path: join(SHOTS, 'example-bot-meetings.png') });
  }, 60_000);

  it('李四 in the group: the same bot acts as 李四, not 张三; a redelivered message runs once', async () => {
    await openChat('lisi', 'group');
    await say('我今天有什么会?');
    expect(await authorize()).toContain('授权成功');
    await eventually(() => lastCard().getByTestId('ai-card-text').textContent()).toContain('李四今天');
    await eventually(() => lastCard().getAttribute('data-state')).toBe('finished');
    const text = (await lastCard().getByTestId('ai-card-text').textContent()) ?? '';
    expect(text).toContain('产品培训');
    expect(text).not.toContain('客户拜访');
    const cards = await conversation().getByTestId('ai-card').count();
    await page.getByTestId('redeliver-last').click();
    await eventually(() => page.getByTestId('fault-log').locator('li').first().textContent()).toContain(
      'pushed again',
    );
    // A later message is answered; the redelivered one produced no second card.
    await say('hi');
    await eventually(() => conversation().getByTestId('bot-reply').last().textContent()).toContain(
      '我今天有什么会',
    );
    expect(await conversation().getByTestId('ai-card').count()).toBe(cards);
  }, 60_000);

  it('张三: a to-do as the sender after the confirm card’s 确认 button', async () => {
    await openChat('zhangsan', 'single');
    await say('待办 写周报');
    const card = conversation().getByTestId('interactive-card').last();
    await card.waitFor();
    expect(await card.getByTestId('card-param-text').textContent()).toContain(
      '以 张三 的身份创建待办「写周报」',
    );
    await card.getByTestId('card-button-confirm').click();
    await eventually(() =>
      conversation().getByTestId('interactive-card').last().getByTestId('card-param-status').textContent(),
    ).toBe('done');
    const res = await fetch(`${dev.url}/sandbox/users/zhangsan/data`);
    expect(JSON.stringify(await res.json())).toContain('写周报');
  }, 60_000);

  it('with the card API QPS-limited the reply still arrives in full', async () => {
    const before = await conversation().getByTestId('ai-card').count();
    await page.getByTestId('card-qps-input').fill('1');
    await page.getByTestId('card-qps-limit').click();
    await eventually(() => page.getByTestId('card-qps-status').getAttribute('data-limit')).toBe('1');
    try {
      await say('我今天有什么会?');
      await eventually(() => conversation().getByTestId('ai-card').count(), 60_000).toBe(before + 1);
      await eventually(() => lastCard().getAttribute('data-state'), 90_000).toBe('finished');
      const text = (await lastCard().getByTestId('ai-card-text').textContent()) ?? '';
      expect(text).toContain('客户拜访');
      expect(text).toContain('销售周会');
    } finally {
      await page.getByTestId('card-qps-off').click();
    }
  }, 180_000);
});
