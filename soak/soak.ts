/**
 * The chaos soak: the sandbox (gateway, OpenAPI, consent) in this process, the example CRM app plus an
 * event handler in a child process connected over a real Stream connection, EVENT and CALLBACK traffic
 * spread over the chaos phase while faults are injected at random, then a drain and the report.
 *
 * Phases: start (sandbox, app, consent) -> warm-up (5% of the traffic, no faults; then the app's RSS
 * after GC is the start figure) -> chaos (the rest of the traffic, paced evenly over `minutes`, faults
 * at random moments) -> drain (faults cleared; every event settled at the gateway and found in the
 * ledger, or counted lost) -> end RSS after GC, counters, stop.
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, SEED_APP, SEED_CORP, SEED_USERS } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { AppProcess } from './app-process.js';
import { Chaos } from './chaos.js';
import { Random } from './random.js';
import { type SoakReport, type SoakSettings, toMb } from './report.js';
import { CallbackTraffic } from './traffic-callbacks.js';
import { EventTraffic } from './traffic-events.js';

/** Gateway timings of the soak: short, so redeliveries happen within the run (DingTalk's are longer). */
const GATEWAY = {
  ackTimeoutMs: 1_500,
  // ~70 s of redelivery in all: an event survives every fault window the chaos opens.
  eventRedelivery: [250, 500, 1_000, 2_000, 3_000, ...Array.from({ length: 15 }, () => 4_000)],
  callbackTimeoutMs: 5_000,
  // The traffic driver resends unanswered calls itself and counts every frame and skill run; the
  // gateway's own CALLBACK redelivery (on by default) would add frames it cannot count.
  callbackRedelivery: [],
  pingIntervalMs: 5_000,
  disconnectGraceMs: 1_000,
  connectionLifetimeMs: 0,
  deliveryLogSize: 500,
};
/** The app's skill deadline: under the platform's wait, so a slow OpenAPI ends in a 504 answer. */
const SKILL_TIMEOUT_MS = 4_000;
const DRAIN_TIMEOUT_MS = 120_000;

export interface SoakRun {
  /** The bundled `app-child` entry. */
  appBundle: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Append the app's log (pino JSON lines) to this file. */
  appLogFile?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Calls `fn(i)` for i in [from, to) spread evenly over `durationMs` (0: as fast as the window allows),
 * with at most `window` calls unsettled; yields to the event loop so the sockets are served meanwhile.
 */
async function paced(
  from: number,
  to: number,
  durationMs: number,
  window: number,
  fn: () => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const t0 = performance.now();
  const count = to - from;
  let sinceYield = 0;
  for (let i = 0; i < count; i++) {
    const wait = t0 + (durationMs * i) / count - performance.now();
    if (wait > 1) {
      await sleep(wait);
      sinceYield = 0;
    } else if (++sinceYield >= 32) {
      await turn();
      sinceYield = 0;
    }
    while (running.size >= window) await Promise.race(running);
    const p: Promise<void> = fn().finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
}

/** The command line that runs these settings again. */
export function soakCommand(s: SoakSettings): string {
  const parts = [
    'npm run soak --',
    `--events ${s.events}`,
    `--callbacks ${s.callbacks}`,
    `--minutes ${s.minutes}`,
    `--faults ${s.faultsPerKind}`,
    `--seed ${s.seed}`,
  ];
  if (s.duplicateRate !== 0.02) parts.push(`--duplicate-rate ${s.duplicateRate}`);
  if (s.callbackWindow !== 16) parts.push(`--window ${s.callbackWindow}`);
  if (s.connections !== 1) parts.push(`--connections ${s.connections}`);
  if (s.appQps !== 20) parts.push(`--app-qps ${s.appQps}`);
  if (s.state !== 'default') parts.push(`--state ${s.state}`);
  if (s.maxRssGrowthMb !== undefined) parts.push(`--max-rss-growth-mb ${s.maxRssGrowthMb}`);
  return parts.join(' ');
}

/** Runs one soak to its report. Rejects only when the soak itself cannot run (e.g. the app never starts). */
export async function runSoak(settings: SoakSettings, run: SoakRun): Promise<SoakReport> {
  const { log } = run;
  const startedAt = new Date();
  const t0 = performance.now();
  const random = new Random(settings.seed);
  const clientId = SEED_APP.clientId;
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), ...GATEWAY });

  // The ledger: how often the app's event handler ran for each event id.
  const ledger = new Map<string, number>();
  let handlerRuns = 0;
  // The app's link: up/down transitions and the gaps between them.
  let up = false;
  let downSince: number | undefined;
  let longestGapMs = 0;
  let totalGapMs = 0;
  let connects = 0;
  const app = new AppProcess(
    run.appBundle,
    {
      apiBase: sandbox.url,
      clientId,
      clientSecret: SEED_APP.clientSecret,
      connections: settings.connections,
      appQps: settings.appQps,
      state: settings.state,
      logLevel: run.appLogFile === undefined ? 'warn' : 'debug',
      skillTimeoutMs: SKILL_TIMEOUT_MS,
    },
    {
      onHandled(ids) {
        handlerRuns += ids.length;
        for (const id of ids) ledger.set(id, (ledger.get(id) ?? 0) + 1);
      },
      onLink(nowUp, at, reason) {
        if (reason === 'connected') connects++;
        if (nowUp === up) return;
        up = nowUp;
        if (!up) {
          downSince = at;
          log(`app link down: ${reason}`);
        } else if (downSince !== undefined) {
          const gap = at - downSince;
          log(`app link up again after ${gap} ms`);
          longestGapMs = Math.max(longestGapMs, gap);
          totalGapMs += gap;
          downSince = undefined;
        }
      },
      onCrash(crash) {
        log(`app crashed: pid ${crash.pid} code ${crash.code} signal ${crash.signal}; restarting`);
      },
    },
    run.appLogFile,
  );

  const chaos = new Chaos({
    sandbox,
    clientId,
    users: SEED_USERS.map((u) => u.userId),
    random,
    perKind: settings.faultsPerKind,
    ackTimeoutMs: GATEWAY.ackTimeoutMs,
    log,
  });
  const events = new EventTraffic({
    sandbox,
    clientId,
    random,
    duplicateRate: settings.duplicateRate,
    onDuplicate: () => chaos.duplicateSent(),
  });
  const callbacks = new CallbackTraffic({
    sandbox,
    clientId,
    users: SEED_USERS.map((u) => ({ userId: u.userId, unionId: u.unionId, corpId: SEED_CORP.corpId })),
    random,
    timeoutMs: GATEWAY.callbackTimeoutMs,
  });

  // The platform's view: is there a connection the gateway can deliver a new message to? (During a
  // handover the old socket still counts as up for the app, but the gateway sends it nothing new.)
  let deliverable = true;
  let undeliverableSince: number | undefined;
  let longestUndeliverableMs = 0;
  let totalUndeliverableMs = 0;
  const sampleDeliverable = () => {
    const now = sandbox.gateway.listConnections().some((c) => c.appId === clientId && c.state === 'open');
    const at = Date.now();
    if (now === deliverable) return;
    deliverable = now;
    if (!now) undeliverableSince = at;
    else if (undeliverableSince !== undefined) {
      const gap = at - undeliverableSince;
      longestUndeliverableMs = Math.max(longestUndeliverableMs, gap);
      totalUndeliverableMs += gap;
      undeliverableSince = undefined;
    }
  };
  let sampler: NodeJS.Timeout | undefined;

  let progress: NodeJS.Timeout | undefined;
  try {
    await app.start();
    log(`sandbox ${sandbox.url}; app pid ${app.pid} connected`);

    // Warm-up: 5% of the traffic without faults, then the start figure of the app's memory.
    const warmEvents = Math.min(settings.events, Math.max(100, Math.round(settings.events * 0.05)));
    const warmCallbacks = Math.min(settings.callbacks, Math.max(20, Math.round(settings.callbacks * 0.05)));
    await Promise.all([
      paced(0, warmEvents, 0, 256, () => events.push()),
      paced(0, warmCallbacks, 0, settings.callbackWindow, () => callbacks.call()),
    ]);
    await events.settle(30_000);
    const memStart = await app.measure();
    log(
      `warm-up done (${warmEvents} events, ${warmCallbacks} callbacks); app RSS ${toMb(memStart.rss)} MB after GC`,
    );

    // Chaos: the rest of the traffic, paced over the phase, faults at random moments.
    const chaosMs = settings.minutes * 60_000;
    progress = setInterval(() => {
      const e = events.stats();
      log(
        `${((performance.now() - t0) / 1000).toFixed(0)} s: events pushed ${e.pushed}, handled ${ledger.size}; callbacks ${callbacks.stats.calls} (answered ${callbacks.stats.answered}); app ${up ? 'up' : 'DOWN'}`,
      );
    }, 5_000);
    sampler = setInterval(sampleDeliverable, 10);
    chaos.start(chaosMs);
    await Promise.all([
      paced(warmEvents, settings.events, chaosMs, 1_024, () => events.push()),
      paced(warmCallbacks, settings.callbacks, chaosMs, settings.callbackWindow, () => callbacks.call()),
    ]);
    chaos.stop();
    log('traffic sent; faults cleared; draining');

    // Drain: every event settled at the gateway, then in the ledger (or lost).
    const settled = await events.settle(DRAIN_TIMEOUT_MS);
    if (!settled) log(`some events were still pending after ${DRAIN_TIMEOUT_MS / 1000} s`);
    await app.settled();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && [...events.pushed.keys()].some((id) => !ledger.has(id))) await sleep(50);
    clearInterval(progress);
    progress = undefined;
    clearInterval(sampler);
    sampler = undefined;
    sampleDeliverable();

    const memEnd = await app.measure();
    const counters = await app.counters();
    const upAtEnd = up;
    await app.stop();

    const e = events.stats();
    const lostEventIds = [...events.pushed.keys()].filter((id) => !ledger.has(id));
    const doubleEventIds = [...ledger.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    const c = callbacks.stats;
    const lost = lostEventIds.length + c.lost;
    const crashes = app.crashes.length;
    const rssGrowthMb = toMb(memEnd.rss - memStart.rss);
    const failures: string[] = [];
    if (lost > 0) failures.push(`${lost} lost`);
    if (doubleEventIds.length > 0) failures.push(`${doubleEventIds.length} events handled twice`);
    if (crashes > 0) failures.push(`${crashes} crashes`);
    if (c.stackTraces > 0) failures.push(`${c.stackTraces} answers with a stack trace`);
    if (settings.maxRssGrowthMb !== undefined && rssGrowthMb > settings.maxRssGrowthMb)
      failures.push(`RSS grew ${rssGrowthMb} MB (limit ${settings.maxRssGrowthMb} MB)`);
    if (!memStart.gc) failures.push('the app ran without --expose-gc');
    if (!upAtEnd) failures.push('the app had no live connection at the end');

    const report: SoakReport = {
      command: soakCommand(settings),
      settings,
      startedAt: startedAt.toISOString(),
      durationS: Math.round((performance.now() - t0) / 100) / 10,
      node: process.version,
      verdict: failures.length === 0 ? 'pass' : 'fail',
      failures,
      messages: {
        sent: e.framesSent + c.framesSent,
        handled: handlerRuns + counters.callbacksHandled,
        acked: e.acked + c.answered,
      },
      events: {
        ...e,
        handled: handlerRuns,
        handledDistinct: ledger.size,
        lost: lostEventIds.length,
        handledTwice: doubleEventIds.length,
      },
      callbacks: { ...c, handledByApp: counters.callbacksHandled },
      lost,
      handledTwice: doubleEventIds.length,
      crashes,
      faults: { ...chaos.counts, skipped: chaos.skipped },
      connection: {
        reconnects: Math.max(0, connects - app.starts),
        longestGapMs,
        totalGapMs,
        longestUndeliverableMs,
        totalUndeliverableMs,
        appStarts: app.starts,
        connectErrors: counters.connectErrors,
      },
      memory: {
        rssStartMb: toMb(memStart.rss),
        rssEndMb: toMb(memEnd.rss),
        rssGrowthMb,
        heapStartMb: toMb(memStart.heapUsed),
        heapEndMb: toMb(memEnd.heapUsed),
        gc: memStart.gc && memEnd.gc,
      },
      appLog: app.logCounts,
      samples: {
        unexpectedAnswers: callbacks.samples,
        lostEventIds: lostEventIds.slice(0, 10),
        doubleEventIds: doubleEventIds.slice(0, 10),
      },
      crashDetails: app.crashes,
      faultTimeline: chaos.timeline,
    };
    return report;
  } finally {
    if (progress) clearInterval(progress);
    if (sampler) clearInterval(sampler);
    chaos.stop();
    await app.stop();
    await sandbox.close();
  }
}
