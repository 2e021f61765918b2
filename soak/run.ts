/**
 * `npm run soak [-- options]`: the chaos soak (see soak/README.md). The report goes to stdout (text, or
 * JSON with --json), progress to stderr. Exit code 0 on pass, 1 on fail, 2 on bad options.
 */
import { parseArgs } from 'node:util';
import { bundleEntry } from './bundle.js';
import type { MemorySettings } from './memory.js';
import type { SoakReport, SoakSettings } from './report.js';

const USAGE = `Usage: npm run soak -- [options]          the chaos soak
       npm run soak -- memory [options]   the memory soak (RSS after GC over N messages, no faults)

Chaos soak options:

  --events <n>              EVENTs to push (default 2000)
  --callbacks <n>           skill calls (CALLBACKs) to make (default 300)
  --minutes <m>             length of the chaos phase; traffic is spread evenly over it (default 0.33)
  --faults <n>              faults of each kind over the run (default: 3, or 6 per minute when longer)
  --duplicate-rate <p>      share of events delivered once more after their ack (default 0.02)
  --seed <n>                seed of the fault schedule and traffic mix (default: random, printed)
  --connections <n>         the app's Stream connections (default 1)
  --app-qps <n>             the app's outbound OpenAPI limit per API (default 20, DingTalk's)
  --state <url>             the app's state: default (startApp's own), or a DINGTALK_STATE URL:
                            memory:, sqlite:<path>, redis://...
  --window <n>              skill calls in flight (default 16)
  --max-rss-growth-mb <n>   fail when the app's RSS after GC grows more than this
  --app-log <file>          append the app's log (debug level, JSON lines) to <file>
  --json                    print the report as JSON
  --quiet                   no progress lines on stderr
  -h, --help                this text

Memory soak options:
  --messages <n>            messages measured (default 200000)
  --warmup <n>              messages before the start figure (default 10000)
  --callback-share <p>      share of CALLBACKs (whoami with a stored token; default 0.25)
  --batch <n>               frames per blast, each batch waits for its acks (default 2000)
  --max-rss-growth-mb <n>   fail above this growth (default 20)
  --state <url>             as above (default: startApp's own)
  --app-log <file>, --json, --quiet`;

function num(name: string, value: string | undefined, fallback: number, min: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new RangeError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`,
    );
  return n;
}

interface Parsed {
  settings: SoakSettings;
  json: boolean;
  quiet: boolean;
  appLog: string | undefined;
}

function parse(argv: string[]): Parsed | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      callbacks: { type: 'string' },
      minutes: { type: 'string' },
      faults: { type: 'string' },
      'duplicate-rate': { type: 'string' },
      seed: { type: 'string' },
      connections: { type: 'string' },
      'app-qps': { type: 'string' },
      state: { type: 'string' },
      window: { type: 'string' },
      'max-rss-growth-mb': { type: 'string' },
      'app-log': { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const minutes = num('minutes', values.minutes, 0.33, 0.01, false);
  const rate = num('duplicate-rate', values['duplicate-rate'], 0.02, 0, false);
  if (rate > 1) throw new RangeError(`--duplicate-rate must be between 0 and 1, got "${rate}"`);
  const maxGrowth = values['max-rss-growth-mb'];
  const settings: SoakSettings = {
    events: num('events', values.events, 2_000, 1),
    callbacks: num('callbacks', values.callbacks, 300, 1),
    minutes,
    faultsPerKind: num('faults', values.faults, Math.max(3, Math.round(minutes * 6)), 0),
    duplicateRate: rate,
    seed: num('seed', values.seed, Math.floor(Math.random() * 2 ** 31), 0),
    connections: num('connections', values.connections, 1, 1),
    appQps: num('app-qps', values['app-qps'], 20, 1),
    state: values.state ?? 'default',
    callbackWindow: num('window', values.window, 16, 1),
    maxRssGrowthMb: maxGrowth === undefined ? undefined : num('max-rss-growth-mb', maxGrowth, 0, 0, false),
  };
  return { settings, json: values.json, quiet: values.quiet, appLog: values['app-log'] };
}

function parseMemory(argv: string[]): {
  settings: MemorySettings;
  json: boolean;
  quiet: boolean;
  appLog: string | undefined;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string' },
      warmup: { type: 'string' },
      'callback-share': { type: 'string' },
      batch: { type: 'string' },
      'max-rss-growth-mb': { type: 'string' },
      'app-log': { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const share = num('callback-share', values['callback-share'], 0.25, 0, false);
  if (share > 1) throw new RangeError(`--callback-share must be between 0 and 1, got "${share}"`);
  return {
    settings: {
      messages: num('messages', values.messages, 200_000, 1),
      warmup: num('warmup', values.warmup, 10_000, 0),
      callbackShare: share,
      batch: num('batch', values.batch, 2_000, 1),
      maxRssGrowthMb: num('max-rss-growth-mb', values['max-rss-growth-mb'], 20, 0, false),
      state: values.state ?? 'default',
    },
    json: values.json,
    quiet: values.quiet,
    appLog: values['app-log'],
  };
}

async function memory(argv: string[]): Promise<number> {
  const { settings, json, quiet, appLog } = parseMemory(argv);
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`soak: ${line}\n`);
  };
  const [soakBundle, appBundle] = await Promise.all([bundleEntry('entry'), bundleEntry('app-child')]);
  const { runMemorySoak, formatMemoryReport } = (await import(soakBundle)) as typeof import('./entry.js');
  const report = await runMemorySoak(settings, {
    appBundle,
    log,
    ...(appLog === undefined ? {} : { appLogFile: appLog }),
  });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatMemoryReport(report)}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'memory') {
    try {
      return await memory(argv.slice(1));
    } catch (err) {
      const usageError =
        err instanceof RangeError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
      if (!usageError) throw err;
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { settings, json, quiet, appLog } = parsed;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`soak: ${line}\n`);
  };
  log(`seed ${settings.seed}; bundling the soak and the app from source`);
  const [soakBundle, appBundle] = await Promise.all([bundleEntry('entry'), bundleEntry('app-child')]);
  const { runSoak, formatReport } = (await import(soakBundle)) as typeof import('./entry.js');
  const report: SoakReport = await runSoak(settings, {
    appBundle,
    log,
    ...(appLog === undefined ? {} : { appLogFile: appLog }),
  });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `soak: could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
