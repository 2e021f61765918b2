/**
 * The body of one client process: starts a client against the bench gateway, then measures its own CPU
 * time (`process.cpuUsage`, user+sys) and peak RSS between `begin` and `end` from the parent.
 * `bundle.ts` builds one plain-JS entry per client that calls `runChild(start)`.
 *
 * Peak RSS costs nothing while measuring: at `begin` the kernel's high-water mark is reset
 * (`/proc/self/clear_refs` = 5, Linux >= 4.0) and at `end` it is read (`resourceUsage().maxRSS`). Where the
 * reset is not possible the value is the peak over the process's life (`peakRssScope: 'process'`).
 * (Sampling `memoryUsage.rss()` on a timer instead cost up to several percent of the measured CPU.)
 */
import { writeFileSync } from 'node:fs';
import type { StartClient } from './clients/types.js';
import type { ChildArgs, FromChild, ToChild } from './ipc.js';

/** Resets the RSS high-water mark to the current RSS; false when this system does not allow it. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    // Not Linux, or /proc not writable: the result says the peak is the process's lifetime peak.
    return false;
  }
}

function tell(msg: FromChild): void {
  process.send?.(msg);
}

async function serve(start: StartClient): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const client = await start(args);

  let cpuStart = process.cpuUsage();
  let peakRssScope: 'phase' | 'process' = 'process';

  process.on('message', (msg: ToChild) => {
    switch (msg.type) {
      case 'begin':
        peakRssScope = resetPeakRss() ? 'phase' : 'process';
        cpuStart = process.cpuUsage();
        tell({ type: 'begun' });
        break;
      case 'end': {
        const cpu = process.cpuUsage(cpuStart);
        tell({
          type: 'measured',
          cpuUserUs: cpu.user,
          cpuSystemUs: cpu.system,
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
          peakRssScope,
        });
        break;
      }
      case 'rss':
        tell({ type: 'rss', rssBytes: process.memoryUsage.rss() });
        break;
      case 'stop':
        client.stop().then(
          () => {
            tell({ type: 'stopped' });
            process.disconnect?.();
          },
          (err: unknown) => {
            tell({ type: 'failed', error: `stop failed: ${String(err)}` });
            process.exitCode = 1;
            process.disconnect?.();
          },
        );
        break;
    }
  });
  tell({ type: 'ready' });
}

/** Runs this process as a benchmarked client; reports a start failure to the parent. */
export function runChild(start: StartClient): void {
  serve(start).catch((err: unknown) => {
    tell({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  });
}
