/**
 * The memory soak: N messages through the app as fast as it takes them, no faults, and the app's RSS
 * after GC at the start (after a warm-up) and at the end. The sandbox's benchmark hook (`blast`) sends
 * the frames in batches and counts the acks; EVENTs go to the ledger handler, CALLBACKs are Graph
 * requests for `whoami` (a valid stored user token, so every one calls the OpenAPI as the user).
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, SEED_APP, SEED_CORP, SEED_USERS } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { AppProcess } from './app-process.js';
import { toMb } from './report.js';
import { CRM_SCOPES } from './traffic-callbacks.js';

export interface MemorySettings {
  /** Messages measured (after the warm-up). */
  messages: number;
  /** Messages before the start figure (not counted in `messages`). */
  warmup: number;
  /** Share of CALLBACKs (the rest are EVENTs). */
  callbackShare: number;
  /** Frames per blast (each batch waits for all its acks). */
  batch: number;
  maxRssGrowthMb: number;
  /** The app's state: `default` (startApp's own) or a DINGTALK_STATE URL. */
  state: string;
}

export interface MemoryReport {
  command: string;
  settings: MemorySettings;
  verdict: 'pass' | 'fail';
  failures: string[];
  durationS: number;
  node: string;
  sent: { events: number; callbacks: number };
  acked: { events: number; callbacks: number };
  /** EVENTs the handler ran, and event ids it ran more than once. */
  eventsHandled: number;
  eventsHandledTwice: number;
  callbacksHandledByApp: number;
  messagesPerS: number;
  crashes: number;
  memory: {
    rssStartMb: number;
    rssEndMb: number;
    rssGrowthMb: number;
    rssMaxMb: number;
    heapStartMb: number;
    heapEndMb: number;
    /** RSS after GC every 10% of the messages. */
    samplesMb: number[];
  };
  appLog: Record<string, number>;
}

export function memoryCommand(s: MemorySettings): string {
  return `npm run soak -- memory --messages ${s.messages} --warmup ${s.warmup} --callback-share ${s.callbackShare} --max-rss-growth-mb ${s.maxRssGrowthMb}${s.state === 'default' ? '' : ` --state ${s.state}`}`;
}

export async function runMemorySoak(
  settings: MemorySettings,
  run: { appBundle: string; log: (line: string) => void; appLogFile?: string },
): Promise<MemoryReport> {
  const { log } = run;
  const t0 = performance.now();
  const clientId = SEED_APP.clientId;
  const user = SEED_USERS[0]!;
  // Every CALLBACK must run the skill exactly once (the check below): no gateway redelivery of one
  // that a slow answer left unanswered.
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), callbackRedelivery: [] });
  const ledger = new Map<string, number>();
  let handled = 0;
  const app = new AppProcess(
    run.appBundle,
    {
      apiBase: sandbox.url,
      clientId,
      clientSecret: SEED_APP.clientSecret,
      connections: 1,
      // Above what the app can do (the limiter keeps one slot per call per second, so not Infinity).
      appQps: 100_000,
      state: settings.state,
      logLevel: run.appLogFile === undefined ? 'warn' : 'debug',
      skillTimeoutMs: 8_000,
    },
    {
      onHandled(ids) {
        handled += ids.length;
        for (const id of ids) ledger.set(id, (ledger.get(id) ?? 0) + 1);
      },
      onLink: () => undefined,
      onCrash: (crash) => log(`app crashed: code ${crash.code} signal ${crash.signal}`),
    },
    run.appLogFile,
  );
  const query = new URLSearchParams({ userId: user.userId, unionId: user.unionId, corpId: SEED_CORP.corpId });
  const whoami = (code?: string) =>
    JSON.stringify({
      requestLine: {
        method: 'GET',
        uri: `/v1/actions/crm/me?${query}${code ? `&oauthAuthCode=${code}` : ''}`,
      },
      headers: { 'content-type': 'application/json' },
      body: '',
    });
  const sent = { events: 0, callbacks: 0 };
  const acked = { events: 0, callbacks: 0 };
  try {
    await app.start();
    // The user consents once; the app exchanges the code and keeps the token for every later call.
    const code = sandbox.platform.authorize({ userId: user.userId, clientId, scopes: [...CRM_SCOPES] }).code;
    const first = await sandbox.gateway.invokeCallback({
      clientId,
      topic: '/v1.0/graph/api/invoke',
      rawData: whoami(code),
    });
    const status = (first as { response?: { statusLine?: { code?: number } } }).response?.statusLine?.code;
    if (first.status !== 'answered' || status !== 200)
      throw new Error(`the first whoami did not answer 200: ${JSON.stringify(first)}`);
    const conn = sandbox.gateway.listConnections().find((c) => c.appId === clientId && c.state === 'open');
    if (!conn) throw new Error('the app has no open connection');
    const callbackData = whoami();

    const blast = async (count: number) => {
      let left = count;
      while (left > 0) {
        const n = Math.min(settings.batch, left);
        const callbacks = Math.round(n * settings.callbackShare);
        const events = n - callbacks;
        if (events > 0) {
          const r = await sandbox.gateway.blast(conn.id, {
            count: events,
            type: 'EVENT',
            data: '{"note":"memory soak"}',
            awaitAcks: true,
            ackTimeoutMs: 60_000,
          });
          sent.events += r.sent;
          acked.events += r.acked ?? 0;
        }
        if (callbacks > 0) {
          const r = await sandbox.gateway.blast(conn.id, {
            count: callbacks,
            type: 'CALLBACK',
            data: callbackData,
            awaitAcks: true,
            ackTimeoutMs: 60_000,
          });
          sent.callbacks += r.sent;
          acked.callbacks += r.acked ?? 0;
        }
        left -= n;
      }
    };

    await blast(settings.warmup);
    const start = await app.measure();
    log(`warm-up (${settings.warmup} messages) done; app RSS ${toMb(start.rss)} MB after GC`);
    const samples: number[] = [];
    let max = start.rss;
    const measuredFrom = performance.now();
    const step = Math.max(1, Math.ceil(settings.messages / 10));
    for (let done = 0; done < settings.messages; done += step) {
      await blast(Math.min(step, settings.messages - done));
      const m = await app.measure();
      max = Math.max(max, m.rss);
      samples.push(toMb(m.rss));
      log(`${Math.min(done + step, settings.messages)} messages: app RSS ${toMb(m.rss)} MB after GC`);
    }
    const measuredS = (performance.now() - measuredFrom) / 1000;
    const end = await app.measure();
    const counters = await app.counters();
    await app.stop();

    const growth = toMb(end.rss - start.rss);
    const twice = [...ledger.values()].filter((n) => n > 1).length;
    const failures: string[] = [];
    if (growth > settings.maxRssGrowthMb)
      failures.push(`RSS grew ${growth} MB (limit ${settings.maxRssGrowthMb} MB)`);
    if (acked.events !== sent.events || acked.callbacks !== sent.callbacks)
      failures.push(`acked ${acked.events + acked.callbacks} of ${sent.events + sent.callbacks}`);
    if (ledger.size !== sent.events) failures.push(`${sent.events - ledger.size} events not handled`);
    if (twice > 0) failures.push(`${twice} events handled twice`);
    // Each CALLBACK must have run the skill (an authorization card, for one, does not reach it).
    const skillRuns = counters.callbacksHandled - 1;
    if (skillRuns !== sent.callbacks)
      failures.push(
        `${sent.callbacks - skillRuns} of ${sent.callbacks} callbacks answered without running the skill`,
      );
    if (app.crashes.length > 0) failures.push(`${app.crashes.length} crashes`);
    if (!start.gc) failures.push('the app ran without --expose-gc');
    return {
      command: memoryCommand(settings),
      settings,
      verdict: failures.length === 0 ? 'pass' : 'fail',
      failures,
      durationS: Math.round((performance.now() - t0) / 100) / 10,
      node: process.version,
      sent,
      acked,
      eventsHandled: handled,
      eventsHandledTwice: twice,
      // The first whoami (with the code) is not a measured message.
      callbacksHandledByApp: skillRuns,
      messagesPerS: Math.round(settings.messages / measuredS),
      crashes: app.crashes.length,
      memory: {
        rssStartMb: toMb(start.rss),
        rssEndMb: toMb(end.rss),
        rssGrowthMb: growth,
        rssMaxMb: toMb(max),
        heapStartMb: toMb(start.heapUsed),
        heapEndMb: toMb(end.heapUsed),
        samplesMb: samples,
      },
      appLog: app.logCounts,
    };
  } finally {
    await app.stop();
    await sandbox.close();
  }
}

export function formatMemoryReport(r: MemoryReport): string {
  const m = r.memory;
  return [
    `memory soak: ${r.verdict.toUpperCase()}${r.failures.length > 0 ? ` (${r.failures.join('; ')})` : ''}`,
    `  command          ${r.command}`,
    `  duration         ${r.durationS} s, ${r.messagesPerS} messages/s measured, node ${r.node}`,
    `  sent             events ${r.sent.events}, callbacks ${r.sent.callbacks} (warm-up included)`,
    `  acked            events ${r.acked.events}, callbacks ${r.acked.callbacks}`,
    `  handled          events ${r.eventsHandled} (twice: ${r.eventsHandledTwice}), skill runs ${r.callbacksHandledByApp}`,
    `  crashes          ${r.crashes}`,
    `  app RSS (GC)     start ${m.rssStartMb} MB, end ${m.rssEndMb} MB (${m.rssGrowthMb >= 0 ? '+' : ''}${m.rssGrowthMb} MB, limit ${r.settings.maxRssGrowthMb}); max ${m.rssMaxMb} MB; heap ${m.heapStartMb} -> ${m.heapEndMb} MB`,
    `  RSS every 10%    ${m.samplesMb.join(', ')} MB`,
    `  app log lines    ${
      Object.entries(r.appLog)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  ].join('\n');
}
