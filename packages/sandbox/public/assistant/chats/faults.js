// Fault injection for the bot chats (the fault panel's "Bot chat" group): expire the open chat's session
// webhooks, redeliver its last message, limit the card API's QPS; and the card QPS meter.

const $ = (id) => document.getElementById(id);

/** Shows the card QPS limit and meter (GET /sandbox/cards/stats). */
export async function refreshCardMeter(page) {
  const s = await page.api('GET', '/sandbox/cards/stats');
  const box = $('card-qps-status');
  box.dataset.limit = String(s.limitQps);
  box.dataset.rejected = String(s.qpsRejected);
  box.textContent =
    `${s.limitQps ? `限流 limit ${s.limitQps} QPS` : '不限流 no limit'} · ` +
    `调用 calls ${s.calls} · 403 QpsLimit ${s.qpsRejected} · 最高 max ${s.maxAcceptedQps}/s`;
  $('card-qps-off').disabled = s.limitQps === 0;
}

async function fault(page, label, fn) {
  try {
    page.logFault(`${label}: ${await fn()}`, true);
  } catch (err) {
    page.logFault(`${label}: ${err.message}`, false);
  }
}

/** `current()`: the open chat's timeline (or null); `refresh()`: reads it again. */
export function bindBotFaults({ page, current, refresh }) {
  const open = () => {
    const conv = current();
    if (!conv) throw new Error('open a bot chat first');
    return conv;
  };
  $('expire-webhook').addEventListener('click', () =>
    fault(page, '会话 Webhook 过期 expire session webhook', async () => {
      const conv = open();
      const out = await page.api(
        'POST',
        `/sandbox/bots/conversations/${encodeURIComponent(conv.id)}/expire-webhooks`,
        {},
      );
      return `${out.expired} session webhook(s) expired: replies now go through the robot APIs`;
    }),
  );
  $('redeliver-last').addEventListener('click', () =>
    fault(page, '重新推送 redeliver', async () => {
      const conv = open();
      if (!conv.lastUserMsgId) throw new Error('no message to redeliver yet');
      const out = await page.api(
        'POST',
        `/sandbox/bots/messages/${encodeURIComponent(conv.lastUserMsgId)}/redeliver`,
        {},
      );
      await refresh();
      const d = out.delivery;
      return `${out.msgId} pushed again (new messageId ${d.messageId || '?'}): ${d.status}${d.ackCode ? ` ${d.ackCode}` : ''}`;
    }),
  );
  $('card-qps-limit').addEventListener('click', () =>
    fault(page, '卡片限流 card QPS limit', async () => {
      const qps = Number($('card-qps-input').value);
      if (!Number.isInteger(qps) || qps < 1)
        throw new Error('a whole number of calls per second, at least 1');
      await page.api('PUT', '/sandbox/cards/qps-limit', { qps });
      await refreshCardMeter(page);
      return `the card APIs answer 403 QpsLimit above ${qps} calls/s`;
    }),
  );
  $('card-qps-off').addEventListener('click', () =>
    fault(page, '卡片限流 card QPS limit', async () => {
      await page.api('PUT', '/sandbox/cards/qps-limit', { qps: 0 });
      await refreshCardMeter(page);
      return 'off';
    }),
  );
}
