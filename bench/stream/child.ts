/**
 * The body of one client process: starts a client against the bench gateway, then measures its own CPU
 * time (`process.cpuUsage`, user+sys) and peak RSS (sampled every 10 ms) between `begin` and `end` from
 * the parent. `bundle.ts` builds one plain-JS entry per client that calls `runChild(start)`.
 */
import type { StartClient } from './clients/types.js';
import type { ChildArgs, FromChild, ToChild } from './ipc.js';

const RSS_SAMPLE_MS = 10;

function tell(msg: FromChild): void {
  process.send?.(msg);
}

async function serve(start: StartClient): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const client = await start(args);

  let cpuStart = process.cpuUsage();
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  };

  process.on('message', (msg: ToChild) => {
    switch (msg.type) {
      case 'begin':
        peakRss = 0;
        sample();
        sampler = setInterval(sample, RSS_SAMPLE_MS);
        cpuStart = process.cpuUsage();
        tell({ type: 'begun' });
        break;
      case 'end': {
        const cpu = process.cpuUsage(cpuStart);
        clearInterval(sampler);
        sample();
        tell({ type: 'measured', cpuUserUs: cpu.user, cpuSystemUs: cpu.system, peakRssBytes: peakRss });
        break;
      }
      case 'stop':
        clearInterval(sampler);
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
