/** The soak's report: what was sent, handled, acked, lost; faults; connection gaps; memory; the verdict. */
import type { CrashRecord, LogCounts } from './app-process.js';
import type { FaultKind, FaultRecord } from './chaos.js';
import type { CallbackTrafficStats } from './traffic-callbacks.js';
import type { EventTrafficStats } from './traffic-events.js';

/** What a soak was asked to do. */
export interface SoakSettings {
  events: number;
  callbacks: number;
  /** Length of the chaos phase (traffic spread evenly over it). */
  minutes: number;
  faultsPerKind: number;
  duplicateRate: number;
  seed: number;
  connections: number;
  appQps: number;
  state: string;
  callbackWindow: number;
  /** When set, RSS growing more than this (after GC) fails the run. */
  maxRssGrowthMb: number | undefined;
}

export interface SoakReport {
  /** The command that runs this soak again (same seed, so the same fault schedule). */
  command: string;
  settings: SoakSettings;
  startedAt: string;
  durationS: number;
  node: string;
  verdict: 'pass' | 'fail';
  /** Why it failed (empty on pass). */
  failures: string[];
  /** Totals over EVENTs and CALLBACKs. */
  messages: { sent: number; handled: number; acked: number };
  events: EventTrafficStats & {
    /** Handler runs (the ledger's entries, counting repeats). */
    handled: number;
    /** Distinct events handled. */
    handledDistinct: number;
    /** Pushed, never handled. */
    lost: number;
    /** Handled more than once. */
    handledTwice: number;
  };
  callbacks: CallbackTrafficStats & {
    /** Skill invocations the app counted (its middleware). */
    handledByApp: number;
  };
  lost: number;
  handledTwice: number;
  crashes: number;
  faults: Record<FaultKind, number> & { skipped: Record<string, number> };
  connection: {
    /** Connections opened after the first one (make-before-break handovers included). */
    reconnects: number;
    /** The longest time the app had no live connection (its own view: a socket handing over counts), ms. */
    longestGapMs: number;
    /** Time without a live connection, summed, ms. */
    totalGapMs: number;
    /**
     * The platform's view: the longest time the gateway had no open connection of the app to deliver a
     * new message to (a socket handing over after `disconnect` gets nothing new), ms.
     */
    longestUndeliverableMs: number;
    totalUndeliverableMs: number;
    appStarts: number;
    connectErrors: number;
  };
  memory: {
    /** The app process after warm-up and GC, MB. */
    rssStartMb: number;
    /** The app process after the last message and GC, MB. */
    rssEndMb: number;
    rssGrowthMb: number;
    heapStartMb: number;
    heapEndMb: number;
    gc: boolean;
  };
  /** Lines the app logged on stderr, by level (faults make it warn and err; it must not crash). */
  appLog: LogCounts;
  samples: { unexpectedAnswers: string[]; lostEventIds: string[]; doubleEventIds: string[] };
  crashDetails: CrashRecord[];
  faultTimeline: FaultRecord[];
}

const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;

export { mb as toMb };

function entries(record: Record<string, number>): string {
  const parts = Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** The report as a terminal reads it. */
export function formatReport(r: SoakReport): string {
  const e = r.events;
  const c = r.callbacks;
  const { skipped, ...faults } = r.faults;
  const lines = [
    `chaos soak: ${r.verdict.toUpperCase()}${r.failures.length > 0 ? ` (${r.failures.join('; ')})` : ''}`,
    `  command          ${r.command}`,
    `  duration         ${r.durationS} s (${r.settings.minutes} min of traffic under faults), node ${r.node}`,
    `  messages         sent ${r.messages.sent}, handled ${r.messages.handled}, acked ${r.messages.acked}`,
    `  events           pushed ${e.pushed}; frames ${e.framesSent} (redeliveries ${e.redeliveries}, duplicates ${e.duplicatesSent}); handled ${e.handled} (distinct ${e.handledDistinct}); acked ${e.acked}; gave up ${e.failedAtGateway}; still pending ${e.pendingAtEnd}; pushes that waited for a connection ${e.deferredPushes}`,
    `  callbacks        calls ${c.calls}; frames ${c.framesSent} (resends ${c.resends}); answered ${c.answered}; results ${c.ok}; authorization cards ${c.authorizationCards}; error answers ${entries(c.errorAnswers)}; unanswered ${entries(c.unanswered)}; unexpected ${c.unexpected}; skill runs in the app ${c.handledByApp}`,
    `  lost             ${r.lost} (events ${e.lost}, callbacks ${c.lost})`,
    `  handled twice    ${r.handledTwice}`,
    `  crashes          ${r.crashes}`,
    `  stack traces     ${c.stackTraces} in answers`,
    `  faults           ${entries(faults)}${Object.keys(skipped).length > 0 ? ` (not injected: ${entries(skipped)})` : ''}`,
    `  connection       reconnects ${r.connection.reconnects}; longest gap without a live connection ${r.connection.longestGapMs} ms (total ${r.connection.totalGapMs} ms); longest time the gateway could deliver nothing new ${r.connection.longestUndeliverableMs} ms (total ${r.connection.totalUndeliverableMs} ms); app starts ${r.connection.appStarts}`,
    `  app RSS (GC)     start ${r.memory.rssStartMb} MB, end ${r.memory.rssEndMb} MB (${r.memory.rssGrowthMb >= 0 ? '+' : ''}${r.memory.rssGrowthMb} MB); heap ${r.memory.heapStartMb} -> ${r.memory.heapEndMb} MB${r.memory.gc ? '' : ' (no --expose-gc: not after GC)'}`,
    `  app log lines    ${entries(r.appLog)}`,
  ];
  if (r.samples.unexpectedAnswers.length > 0)
    lines.push('  unexpected answers:', ...r.samples.unexpectedAnswers.map((s) => `    ${s}`));
  if (r.samples.lostEventIds.length > 0) lines.push(`  lost event ids: ${r.samples.lostEventIds.join(', ')}`);
  if (r.samples.doubleEventIds.length > 0)
    lines.push(`  events handled twice: ${r.samples.doubleEventIds.join(', ')}`);
  for (const crash of r.crashDetails)
    lines.push(
      `  crash: pid ${crash.pid} exit code ${crash.code} signal ${crash.signal}${crash.fatal ? `\n    ${crash.fatal.split('\n').join('\n    ')}` : ''}`,
      ...crash.stderrTail.slice(-10).map((l) => `    | ${l}`),
    );
  return lines.join('\n');
}
