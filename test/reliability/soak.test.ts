/**
 * The soaks in their short versions, run exactly as `npm run soak` runs them (`node --import tsx
 * soak/run.ts ... --json`, the app in its own process with --expose-gc):
 *  - chaos: 2,000 EVENTs and 300 skill calls over 20 s with 3 faults of each kind: nothing lost, nothing
 *    handled twice, no crash, no stack trace in an answer;
 *  - memory: 20,000 messages after a 5,000 warm-up: the app's RSS after GC within 20 MB of its start.
 * The long versions and their last results are in docs/reliability.md.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MemoryReport } from '../../soak/memory.js';
import type { SoakReport } from '../../soak/report.js';
import { runToEnd } from '../support/child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm run soak -- <args> --json --quiet` (without npm) and returns the report and exit code. */
async function soak<R>(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; report: R; stderr: string }> {
  const { code, stdout, stderr } = await runToEnd(
    process.execPath,
    ['--import', 'tsx', 'soak/run.ts', ...args, '--json', '--quiet'],
    { cwd: ROOT, timeoutMs },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { code, report: JSON.parse(line) as R, stderr };
  } catch {
    throw new Error(`the soak printed no JSON report (exit ${code}):\n${stdout}\n${stderr}`);
  }
}

describe('soak (short versions)', () => {
  it('chaos: 2,000 events and 300 calls under every kind of fault; lost 0, handled twice 0, crashes 0', async () => {
    const { code, report } = await soak<SoakReport>(
      ['--events', '2000', '--callbacks', '300', '--minutes', '0.33', '--faults', '3'],
      150_000,
    );
    const summary = JSON.stringify({
      failures: report.failures,
      samples: report.samples,
      faults: report.faults,
    });
    expect(report.lost, summary).toBe(0);
    expect(report.handledTwice, summary).toBe(0);
    expect(report.crashes, summary).toBe(0);
    expect(report.callbacks.stackTraces, summary).toBe(0);
    expect(report.verdict, summary).toBe('pass');
    expect(code).toBe(0);
    // Everything was sent and the ledger saw every event.
    expect(report.events.pushed).toBe(2_000);
    expect(report.events.handledDistinct).toBe(2_000);
    expect(report.callbacks.calls).toBe(300);
    expect(report.callbacks.ok + report.callbacks.unexpected + report.callbacks.lost).toBeLessThanOrEqual(
      300,
    );
    // The faults happened (a drop or disconnect finds no live connection now and then: skipped, not failed).
    const { skipped, ...faults } = report.faults;
    for (const [kind, n] of Object.entries(faults))
      expect(n + (skipped[kind] ?? 0), `${kind} injected`).toBeGreaterThanOrEqual(
        kind === 'duplicate' ? 1 : 3,
      );
    expect(report.events.redeliveries).toBeGreaterThan(0);
    expect(report.connection.reconnects).toBeGreaterThan(0);
    expect(report.memory.gc).toBe(true);
  }, 160_000);

  it('memory: 20,000 messages keep the app’s RSS after GC within 20 MB of its start', async () => {
    const { code, report } = await soak<MemoryReport>(
      ['memory', '--messages', '20000', '--warmup', '5000', '--max-rss-growth-mb', '20'],
      150_000,
    );
    expect(report.failures).toEqual([]);
    expect(report.memory.rssGrowthMb).toBeLessThanOrEqual(20);
    expect(report.acked).toEqual(report.sent);
    expect(report.eventsHandled).toBe(report.sent.events);
    expect(report.callbacksHandledByApp).toBe(report.sent.callbacks);
    expect(report.sent.events + report.sent.callbacks).toBe(25_000);
    expect(code).toBe(0);
  }, 160_000);
});
