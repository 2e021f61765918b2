import { existsSync } from 'node:fs';
import { SEED_APP } from '@dingtalk-skills/sandbox';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ScriptedSkill, startHarness, TEST_SPEC_YAML } from './harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Set to a folder to keep screenshots of the page (for looking at the layout). */
const SHOTS = process.env.ASSISTANT_SCREENSHOTS;

let h: Harness;
let skill: ScriptedSkill;

beforeAll(async () => {
  h = await startHarness();
  h.assistant.registerSkillsYaml(SEED_APP.clientId, TEST_SPEC_YAML);
  skill = await ScriptedSkill.connect(h.url, (call) =>
    call.path === '/v1/actions/test/echo'
      ? { status: 200, body: { echo: call.query.word } }
      : { status: 200, body: { taskId: 'task-42', subject: call.body.subject } },
  );
});
afterAll(async () => {
  await skill.close();
  await h.close();
});

describe('serving the page', () => {
  it('serves / with its assets, offline-only CSP and the test ids the browser test relies on', async () => {
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('dingtalk-skills sandbox · 钉钉 AI 助理沙箱');
    for (const id of [
      'user-select',
      'skill-list',
      'conversation',
      'command-input',
      'faults-panel',
      'expire-token',
      'revoke-grant',
      'remove-scope',
      'drop-connection',
      'send-disconnect',
      'chat-tab-single',
      'chat-tab-group',
      'bot-input',
      'expire-webhook',
      'redeliver-last',
      'card-qps-limit',
      'chat-tab-mcp',
      'mcp-list-tools',
      'mcp-call',
    ])
      expect(html).toContain(`data-testid="${id}"`);
    expect(html).not.toMatch(/https?:\/\//); // nothing from the internet
    for (const [file, type] of [
      ['app.js', 'text/javascript'],
      ['style.css', 'text/css'],
      ['favicon.svg', 'image/svg+xml'],
      ['chats/chats.js', 'text/javascript'],
      ['chats/render.js', 'text/javascript'],
      ['chats/markdown.js', 'text/javascript'],
      ['chats/faults.js', 'text/javascript'],
      ['chats/chats.css', 'text/css'],
      ['page/dom.js', 'text/javascript'],
      ['page/page.js', 'text/javascript'],
      ['skills/skills.js', 'text/javascript'],
      ['conversation/cards.js', 'text/javascript'],
      ['overview/overview.js', 'text/javascript'],
      ['faults/faults.js', 'text/javascript'],
      ['mcp/mcp.js', 'text/javascript'],
      ['mcp/render.js', 'text/javascript'],
      ['mcp/mcp.css', 'text/css'],
    ]) {
      const asset = await fetch(`${h.url}/assistant/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain(type);
    }
    expect((await fetch(`${h.url}/assistant/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${h.url}/assistant/index.ts`)).status).toBe(404);
    expect((await fetch(`${h.url}/assistant/chats/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${h.url}/assistant/chats/app.js`)).status).toBe(404);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the page in a real browser (Chromium)', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`${msg.text()} ${msg.location().url}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
  };

  it('runs a skill through the authorization card, the consent page and back to the result card', async () => {
    await page.goto(`${h.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('[data-testid="user-select"]', 'zhangsan');
    await page.click('[data-testid="skill-createTodo"]');
    await page.fill('[data-testid="param-subject"]', '买牛奶');
    await page.fill('[data-testid="param-priority"]', '2');
    await shot('1-form');
    await page.click('[data-testid="skill-submit"]');
    const card = page.locator('[data-testid="auth-card"]');
    await card.waitFor();
    expect(await card.locator('[data-testid="auth-card-app"]').textContent()).toBe(SEED_APP.name);
    expect(await card.locator('[data-testid="auth-card-scopes"]').textContent()).toContain('创建个人待办');
    expect(await card.getAttribute('data-state')).toBe('pending');
    expect(skill.calls).toHaveLength(0);
    await shot('2-auth-card');

    await card.locator('[data-testid="auth-card-authorize"]').click();
    await page.waitForURL(/\/oauth2\/auth\?/);
    await shot('3-consent');
    expect(await page.locator('input[name="userId"]:checked').getAttribute('value')).toBe('zhangsan');
    await page.click('[data-testid="consent-approve"]');
    await page.waitForURL((url) => url.pathname === '/');
    const result = page.locator('[data-testid="result-card"]');
    await result.waitFor();
    expect(await result.locator('[data-testid="result-field-taskId"]').textContent()).toBe('task-42');
    expect(await result.locator('[data-testid="result-field-subject"]').textContent()).toBe('买牛奶');
    expect(await page.locator('[data-testid="consent-note"]').getAttribute('data-decision')).toBe('approve');
    expect(await page.locator('[data-testid="auth-card"]').getAttribute('data-state')).toBe('closed');
    expect(skill.calls).toHaveLength(1);
    expect(skill.calls[0]!.body).toEqual({ subject: '买牛奶', priority: 2, urgent: false });
    await shot('4-result');

    // The fault panel acts on the platform: revoking shows in the grant status.
    const grantStatus = page.locator('[data-testid="grant-status"]');
    await expect
      .poll(() => grantStatus.textContent(), { timeout: 10_000 })
      .toContain('Todo.PersonalTodo.Write');
    await page.click('[data-testid="revoke-grant"]');
    await expect.poll(() => grantStatus.textContent(), { timeout: 10_000 }).toContain('Revoked');
    expect(h.platform.repos.grants.get('zhangsan', SEED_APP.clientId)?.revokedAt).not.toBeNull();

    // A plain-text command and an unmatched one.
    await page.fill('[data-testid="command-input"]', '回声 word=hello');
    await page.press('[data-testid="command-input"]', 'Enter');
    await page.locator('[data-testid="result-card"]').nth(1).waitFor();
    expect(await page.locator('[data-testid="result-field-echo"]').textContent()).toBe('hello');
    await page.fill('[data-testid="command-input"]', '订机票');
    await page.press('[data-testid="command-input"]', 'Enter');
    await page.locator('[data-testid="error-card"][data-code="noMatchingSkill"]').waitFor();
    await shot('5-more');
    expect(errors).toEqual([]);
  });

  it('shows replies the skill posts to its session webhook (text, markdown, actionCard) in the conversation', async () => {
    await page.goto(`${h.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('[data-testid="user-select"]', 'lisi');
    await page.fill('[data-testid="command-input"]', 'echo word=hi');
    await page.press('[data-testid="command-input"]', 'Enter');
    await page.locator('[data-testid="result-field-echo"]').waitFor();
    const conversationId = await page
      .locator('[data-testid="conversation"]')
      .getAttribute('data-conversation-id');
    const conv = (await (
      await fetch(`${h.url}/sandbox/assistant/conversations/${conversationId}`)
    ).json()) as {
      sessionWebhook: { url: string };
    };
    const post = (body: unknown) =>
      fetch(conv.sessionWebhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    expect(await post({ msgtype: 'text', text: { content: '稍后提醒你 reminder set' } })).toEqual({
      errcode: 0,
      errmsg: 'ok',
    });
    expect(
      await post({ msgtype: 'markdown', markdown: { title: '日报', text: '**完成** 3 项' } }),
    ).toMatchObject({ errcode: 0 });
    expect(
      await post({
        msgtype: 'actionCard',
        actionCard: {
          title: '审批',
          text: '请处理',
          singleTitle: '查看',
          singleURL: 'https://example.com/x',
        },
      }),
    ).toMatchObject({ errcode: 0 });
    // The page polls the conversation while its webhook may still be used.
    const replies = page.locator('[data-testid="reply-card"]');
    await expect.poll(() => replies.count(), { timeout: 15_000 }).toBe(3);
    expect(await replies.nth(0).getAttribute('data-msgtype')).toBe('text');
    expect(await replies.nth(0).locator('[data-testid="reply-text"]').textContent()).toBe(
      '稍后提醒你 reminder set',
    );
    expect(await replies.nth(1).locator('[data-testid="reply-title"]').textContent()).toBe('日报');
    expect(await replies.nth(1).locator('[data-testid="reply-text"]').textContent()).toBe('**完成** 3 项');
    expect(await replies.nth(2).locator('a.reply-button').getAttribute('href')).toBe('https://example.com/x');
    await shot('6-replies');
    expect(errors).toEqual([]);
  });
});
