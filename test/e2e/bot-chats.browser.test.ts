/**
 * The page's bot chats (机器人会话) as a user sees them, in Debian's Chromium: a sandbox and a small
 * bot app (test/e2e/fixtures/chat-bot.ts, defineBot, AI cards through aiCardStreamer) in this process.
 * As 张三 in the single chat a streamed AI card grows and finalizes; hostile replies render as text;
 * as 李四 in the group the bot names 李四; a redelivered message runs once; after "expire the session
 * webhook" the reply comes through the robot API; with the card API QPS-limited the reply still
 * arrives; a button on an interactive card is a card callback that updates the card.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { ROOT } from './dev-process.js';
import { chatBotApp, chatBotCards, HOSTILE, holdStreams, runs } from './fixtures/chat-bot.js';

const SHOTS = join(ROOT, 'artifacts', 'screenshots');
/** `UPDATE_DOCS_SCREENSHOTS=1` also writes docs/screenshots/bot-chat.png (docs/sandbox.md §6). */
const DOCS_SHOTS =
  process.env.UPDATE_DOCS_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : undefined;

/** Waits for a condition (generous: the machine may be loaded). */
const eventually = <T>(probe: () => T | Promise<T>, timeout = 15_000) =>
  expect.poll(probe, { timeout, interval: 100 });

describe.skipIf(!existsSync(CHROMIUM))('bot chats on the sandbox page (SDK bot + Chromium)', () => {
  let sandbox: Sandbox;
  let app: RunningApp;
  let cards: ReturnType<typeof chatBotCards>;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    sandbox = await createSandbox({ logger: silentLogger(), pingIntervalMs: 0, ephemeral: true });
    cards = chatBotCards(sandbox.url, SEED_APP.clientId, SEED_APP.clientSecret);
    app = await startApp(chatBotApp, {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger: silentLogger(),
      now: () => sandbox.context.clock.now(),
      cardStreamer: cards.streamer,
    });
    await sandbox.gateway.waitForConnection(
      { clientId: SEED_APP.clientId, type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
      10_000,
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`${msg.text()} ${msg.location().url}`);
    });
    await page.goto(`${sandbox.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await cards?.close();
    await sandbox?.close();
  }, 20_000);

  const conversation = () => page.getByTestId('bot-conversation');

  async function openChat(userId: string, view: 'single' | 'group'): Promise<void> {
    await page.getByTestId('user-select').selectOption(userId);
    await page.getByTestId(`chat-tab-${view}`).click();
    await eventually(() => page.getByTestId('bot-typing-as').textContent()).toContain(
      userId === 'zhangsan' ? '张三' : '李四',
    );
  }

  async function say(text: string): Promise<void> {
    const before = await conversation().getByTestId('bot-user-message').count();
    await page.getByTestId('bot-input').fill(text);
    await page.getByTestId('bot-send').click();
    await eventually(() => conversation().getByTestId('bot-user-message').count()).toBe(before + 1);
  }

  const lastCard = (): Locator => conversation().getByTestId('ai-card').last();
  const lastReply = (): Locator => conversation().getByTestId('bot-reply').last();
  const lastMsgId = async () =>
    (await conversation().getByTestId('bot-user-message').last().getAttribute('data-msg-id')) ?? '';

  it('as 张三 in the single chat: the AI card grows while streaming, then finalizes', async () => {
    await openChat('zhangsan', 'single');
    const hold = holdStreams();
    await say('stream 今天有什么会?');
    const card = lastCard();
    // Mid-stream: the first part is shown, the card is still open.
    await eventually(() => card.getByTestId('ai-card-text').textContent()).toContain('第一段 part one');
    expect(['processing', 'inputting']).toContain(await card.getAttribute('data-state'));
    expect(await card.getByTestId('ai-card-text').textContent()).not.toContain('第二段');
    await card.screenshot({ path: join(SHOTS, 'bot-chat-ai-card-streaming.png') });
    hold.release();
    await eventually(() => card.getAttribute('data-state')).toBe('finished');
    const text = await card.getByTestId('ai-card-text').textContent();
    expect(text).toContain('张三，第一段 part one。');
    expect(text).toContain('第二段 part two');
    // Markdown rendered as nodes: **完成 done** is bold.
    expect(await card.locator('strong').allTextContents()).toContain('完成 done');
    expect(runs.get(await lastMsgId())).toBe(1);
    await card.screenshot({ path: join(SHOTS, 'bot-chat-ai-card-finished.png') });
  }, 40_000);

  it('hostile replies (markdown, action card, AI card) render as text: no <img>, no script ran', async () => {
    const cardsBefore = await conversation().getByTestId('ai-card').count();
    await say('xss');
    await eventually(() => conversation().getByTestId('ai-card').count()).toBe(cardsBefore + 1);
    await eventually(() => lastCard().getAttribute('data-state')).toBe('finished');
    const replies = conversation().getByTestId('bot-reply');
    await eventually(() => replies.count()).toBeGreaterThanOrEqual(2);
    const box = conversation();
    expect(await box.locator('img, script, iframe, b, i').count()).toBe(0);
    const shown = (await box.textContent()) ?? '';
    expect(shown).toContain('<img src=x onerror="window.__xss=1">');
    expect(shown).toContain('<script>window.__xss=2</script>');
    expect(shown).toContain('<img src=x onerror="window.__xss=3">'); // the action card's title
    expect(await lastCard().getByTestId('ai-card-text').textContent()).toContain(HOSTILE.slice(0, 30));
    // javascript: links are not links.
    expect(await box.locator('a[href^="javascript"]').count()).toBe(0);
    const button = box.getByTestId('bot-reply-button').last();
    expect(await button.textContent()).toBe('<i>go</i>');
    expect(await button.getAttribute('href')).toBeNull();
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
  }, 40_000);

  it('as 李四 in the group: the bot names 李四; a redelivered message runs once', async () => {
    await openChat('lisi', 'group');
    expect(await page.getByTestId('chat-tab-group').textContent()).toContain('张三 + 李四');
    await say('who am I');
    const msgId = await lastMsgId();
    await eventually(() =>
      conversation().locator(`[data-testid="bot-reply"][data-msg-id="${msgId}"]`).count(),
    ).toBe(1);
    const reply = lastReply();
    expect(await reply.getByTestId('bot-reply-text').textContent()).toContain('你好 李四 (lisi)');
    expect(await reply.getByTestId('bot-reply-text').textContent()).not.toContain('张三');
    expect(await reply.getAttribute('data-via')).toBe('sessionWebhook');

    await page.getByTestId('redeliver-last').click();
    await eventually(() => page.getByTestId('fault-log').locator('li').first().textContent()).toContain(
      `${msgId} pushed again`,
    );
    expect(await page.getByTestId('fault-log').locator('li').first().textContent()).toContain('answered');
    // A later message's reply arrives; the redelivered one still has one reply and ran once.
    await say('ping');
    await eventually(() => lastReply().getByTestId('bot-reply-text').textContent()).toContain(
      '收到 got: ping',
    );
    expect(await conversation().locator(`[data-testid="bot-reply"][data-msg-id="${msgId}"]`).count()).toBe(1);
    expect(runs.get(msgId)).toBe(1);
    await conversation().screenshot({ path: join(SHOTS, 'bot-chat-group.png') });
  }, 40_000);

  it('a reply after "expire the session webhook" comes through the robot API', async () => {
    const hold = holdStreams();
    await say('later who');
    const msgId = await lastMsgId();
    await eventually(() => runs.get(msgId)).toBe(1); // the handler runs and waits
    await page.getByTestId('expire-webhook').click();
    await eventually(() => page.getByTestId('fault-log').locator('li').first().textContent()).toContain(
      'session webhook(s) expired',
    );
    hold.release();
    await eventually(() => lastReply().getByTestId('bot-reply-text').textContent()).toContain('你好 李四');
    expect(await lastReply().getAttribute('data-via')).toBe('groupMessages/send');
    // The next message brings a fresh session webhook.
    await say('who now');
    const next = await lastMsgId();
    await eventually(() =>
      conversation().locator(`[data-testid="bot-reply"][data-msg-id="${next}"]`).getAttribute('data-via'),
    ).toBe('sessionWebhook');
  }, 40_000);

  it("in the group, 张三 sees 李四's lines on the left (another member)", async () => {
    await openChat('zhangsan', 'group');
    const lisiLine = conversation().locator('[data-testid="bot-user-message"][data-user-id="lisi"]').first();
    await eventually(() => lisiLine.getAttribute('class')).toBe('msg user other');
  }, 40_000);

  it('with the card API QPS-limited the streamed reply still arrives in full', async () => {
    await openChat('zhangsan', 'single');
    const before = await conversation().getByTestId('ai-card').count();
    await page.getByTestId('card-qps-input').fill('1');
    await page.getByTestId('card-qps-limit').click();
    await eventually(() => page.getByTestId('card-qps-status').getAttribute('data-limit')).toBe('1');
    try {
      await say('stream under a QPS limit');
      // Slower: every 403 pauses the app's card calls (backoff), so allow for a loaded machine.
      await eventually(() => conversation().getByTestId('ai-card').count(), 45_000).toBe(before + 1);
      await eventually(() => lastCard().getAttribute('data-state'), 60_000).toBe('finished');
      const text = await lastCard().getByTestId('ai-card-text').textContent();
      expect(text).toContain('第一段 part one');
      expect(text).toContain('第二段 part two');
      // The sandbox answered 403 QpsLimit at least once on the way (the meter on the page).
      await eventually(async () =>
        Number(await page.getByTestId('card-qps-status').getAttribute('data-rejected')),
      ).toBeGreaterThan(0);
    } finally {
      await page.getByTestId('card-qps-off').click();
    }
    await eventually(() => page.getByTestId('card-qps-status').getAttribute('data-limit')).toBe('0');
  }, 150_000);

  it('a button on an interactive card is a card callback; its answer updates the card', async () => {
    await say('confirm 买牛奶');
    const card = conversation().getByTestId('interactive-card').last();
    await card.waitFor();
    expect(await card.getByTestId('card-param-subject').textContent()).toBe('买牛奶');
    await card.getByTestId('card-button-confirm').click();
    await eventually(() =>
      conversation().getByTestId('interactive-card').last().getByTestId('card-param-status').textContent(),
    ).toBe('已确认 confirmed');
    expect(
      await conversation().getByTestId('interactive-card').last().getByTestId('card-param-by').textContent(),
    ).toBe('zhangsan');
    const png = await page.screenshot({ path: join(SHOTS, 'bot-chat-page.png') });
    if (DOCS_SHOTS) writeFileSync(join(DOCS_SHOTS, 'bot-chat.png'), png);
    expect(pageErrors).toEqual([]);
  }, 40_000);
});
