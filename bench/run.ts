/**
 * `npm run bench [-- options]`: runs the benchmark suites. Results go to stdout (a table, or one JSON object
 * per line with `--json`); progress goes to stderr. Add a suite by implementing `Suite` and listing it in
 * SUITES.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { appCallsSuite } from './app/calls.js';
import { appSuite } from './app/suite.js';
import { botsSuite } from './bots/suite.js';
import { e2eSuite } from './e2e/suite.js';
import { gatewaySuite } from './gateway/suite.js';
import { mcpSuite } from './mcp/suite.js';
import { skillsSuite } from './skills/suite.js';
import { stateSuite } from './state/suite.js';
import { streamSuite } from './stream/suite.js';
import type { BenchOptions, BenchRow, Suite } from './suite.js';
import { userApiSuite } from './user-api/suite.js';

/** The registry of suites, in the order `npm run bench` runs them. */
const SUITES: readonly Suite[] = [
  streamSuite,
  stateSuite,
  e2eSuite,
  gatewaySuite,
  skillsSuite,
  appSuite,
  appCallsSuite,
  userApiSuite,
  botsSuite,
  mcpSuite,
];

const USAGE = `Usage: npm run bench -- [options]

  --json               one JSON object per line on stdout
  --suite <name>       run only this suite (repeatable); --list shows them
  --messages <n>       measured messages per client, saturation phase
  --warmup <n>         warm-up messages per client (not measured)
  --window <n>         most messages in flight
  --rate <n>           message rate of the steady phase (msg/s)
  --seconds <n>        length of the steady phase
  --rounds <n>         runs per client (median reported)
  --clients <a,b>      only these clients/cases (stream: floor,official,ours; e2e: default-20qps,raised,raised-http;
                       gateway: read,ack; skills: floor,ours,ours-skills; user-api: raised,raised-stream,default-20qps;
                       bots: paced,overdriven)
  --gateway-writes <w> frame (default): the bench gateway writes each frame as it is due;
                       turn: the frames due in one event-loop turn in one write (bursts)
  --cpu-prof <dir>     write a CPU profile of each client process to <dir> (for diagnosis only)
  --list               list the suites
  -h, --help           this text`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return name === 'seconds' ? n : Math.round(n);
}

function gatewayWrites(value: string | undefined): 'frame' | 'turn' | undefined {
  if (value === undefined || value === 'frame' || value === 'turn') return value;
  throw new Error(`--gateway-writes must be frame or turn, got "${value}"`);
}

function formatTable(rows: BenchRow[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'suite');
  const cells = rows.map((r) => keys.map((k) => (r[k] === undefined ? '' : String(r[k]))));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      suite: { type: 'string', multiple: true },
      messages: { type: 'string' },
      warmup: { type: 'string' },
      window: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      clients: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'gateway-writes': { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    for (const s of SUITES) console.log(`${s.name.padEnd(12)} ${s.description}`);
    return 0;
  }
  const names = values.suite ?? SUITES.map((s) => s.name);
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const options: BenchOptions = {
    messages: positiveInt('messages', values.messages),
    warmup: positiveInt('warmup', values.warmup),
    window: positiveInt('window', values.window),
    rate: positiveInt('rate', values.rate),
    seconds: positiveInt('seconds', values.seconds),
    rounds: positiveInt('rounds', values.rounds),
    clients: values.clients
      ?.split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
    gatewayWrites: gatewayWrites(values['gateway-writes']),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };

  let failed = false;
  for (const suite of SUITES.filter((s) => names.includes(s.name))) {
    const rows: BenchRow[] = [];
    const startedAt = Date.now();
    try {
      await suite.run({
        options,
        emit: (row) => {
          if (values.json) console.log(JSON.stringify(row));
          else rows.push(row);
        },
        log: (line) => console.error(line),
      });
    } catch (err) {
      failed = true;
      console.error(
        `suite ${suite.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    console.error(`suite ${suite.name}: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    if (!values.json && rows.length > 0) {
      const results = rows.filter((r) => r.target === undefined);
      const targets = rows.filter((r) => r.target !== undefined);
      console.log(`\n== ${suite.name} ==\n${formatTable(results)}`);
      if (targets.length > 0) console.log(`\n${formatTable(targets)}`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    console.error(USAGE);
    process.exitCode = 2;
  },
);
