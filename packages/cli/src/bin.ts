#!/usr/bin/env node
import { VERSION } from '@dingtalk-skills/sdk';
import { Command, InvalidArgumentError, Option } from 'commander';
import { devCommand } from './commands/dev.js';
import { initCommand } from './commands/init/index.js';
import { invokeCommand } from './commands/invoke.js';
import { sandboxCommand } from './commands/sandbox.js';
import { specCommand } from './commands/spec.js';
import { startCommand } from './commands/start.js';
import { tlsOptions } from './commands/tls.js';
import { EnvError } from './env.js';
import { AppLoadError } from './load-app.js';

function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** A comma-separated list of delays in ms, e.g. `10000,30000,60000`; `off`, `none` or `` is the empty list. */
function delayListOption(name: string) {
  return (value: string): number[] => {
    if (['', 'none', 'off'].includes(value.trim())) return [];
    const parts = value.split(',').map((p) => p.trim());
    const delays = parts.map(Number);
    if (delays.some((n) => !Number.isInteger(n) || n < 0 || n > 86_400_000) || delays.length > 100)
      throw new InvalidArgumentError(
        `${name} must be up to 100 comma-separated delays in ms (0 to 86400000), e.g. 10000,30000,60000`,
      );
    return delays;
  };
}

const callbackRedeliveryOption = () =>
  new Option(
    '--callback-redelivery <ms,...>',
    'send an unanswered CALLBACK again after these delays (sandbox clock), e.g. 10000,30000,60000,120000; off = never; default 20000,60000',
  ).argParser(delayListOption('--callback-redelivery'));

const program = new Command();
program
  .name('dingtalk-skills')
  .description(
    'DingTalk AI assistant skills with user-delegated credentials (用户代理凭证): dev, start, sandbox, spec, invoke',
  )
  .version(VERSION)
  .showHelpAfterError();

const opsPortOption = () =>
  new Option(
    '--ops-port <port>',
    'serve /metrics, /healthz and /readyz on this port (e.g. 9464; 0 = any free port; default $DINGTALK_OPS_PORT, else off)',
  ).argParser(intOption('--ops-port', 0, 65535));
const opsHostOption = () =>
  new Option('--ops-host <host>', 'interface of the ops endpoints (default $DINGTALK_OPS_HOST or 127.0.0.1)');
const hostOption = () =>
  new Option('--host <host>', 'interface to listen on (loopback unless told otherwise)').default('127.0.0.1');
const portOption = () =>
  new Option('--port <port>', 'port (default $DINGTALK_SANDBOX_PORT or 8720)').argParser(
    intOption('--port', 0, 65535),
  );

program
  .command('dev')
  .description(
    'sandbox and app together: the app connects over Stream, its skills are registered in the sandbox',
  )
  .argument('[app]', 'app folder or file', '.')
  .addOption(hostOption())
  .addOption(portOption())
  .option('--ephemeral', 'keep the sandbox in memory (no SQLite file)')
  .option('--db <path>', 'the sandbox SQLite file')
  .addOption(
    new Option('--connections <n>', 'Stream connections of the app')
      .argParser(intOption('--connections', 1, 16))
      .default(1),
  )
  .addOption(opsPortOption())
  .addOption(opsHostOption())
  .addOption(callbackRedeliveryOption())
  .action((app: string, opts) => devCommand(app, opts));
for (const option of tlsOptions()) program.commands.find((c) => c.name() === 'dev')?.addOption(option);

program
  .command('start')
  .description('the app alone against DingTalk (or any DINGTALK_API_BASE)')
  .argument('[app]', 'app folder or file', '.')
  .addOption(
    new Option('--connections <n>', 'Stream connections')
      .argParser(intOption('--connections', 1, 16))
      .default(1),
  )
  .addOption(opsPortOption())
  .addOption(opsHostOption())
  .addOption(
    new Option(
      '--handler-timeout <ms>',
      'deadline of a Stream handler (EVENT then acked LATER); an EVENT claim is held at most this plus 5 s',
    )
      .argParser(intOption('--handler-timeout', 1, 3_600_000))
      .default(25_000),
  )
  .addOption(
    new Option(
      '--event-lease <ms>',
      "length of one EVENT dedup lease, renewed every third of it while the handler runs: an instance that dies frees its events within this (keep it well below the platform's redelivery schedule, ~210 s)",
    )
      .argParser(intOption('--event-lease', 30, 3_600_000))
      .default(30_000),
  )
  .addOption(
    new Option(
      '--qps <n>',
      "outbound OpenAPI calls per second per API, shared by every instance on the state store (DingTalk's standard limit: 20)",
    )
      .argParser(intOption('--qps', 1, 1_000_000))
      .default(20),
  )
  .addOption(
    new Option(
      '--drain-timeout <ms>',
      'on SIGTERM/SIGINT, how long in-flight handlers may finish before the rest are answered as timed out',
    )
      .argParser(intOption('--drain-timeout', 0, 3_600_000))
      .default(10_000),
  )
  .action((app: string, opts) => startCommand(app, opts));

program
  .command('sandbox')
  .description('the sandbox alone (a local DingTalk for apps written with any SDK)')
  .addOption(hostOption())
  .addOption(portOption())
  .option('--ephemeral', 'keep everything in memory (no SQLite file)')
  .option('--db <path>', 'the SQLite file')
  .addOption(callbackRedeliveryOption())
  .action((opts) => sandboxCommand(opts));
for (const option of tlsOptions()) program.commands.find((c) => c.name() === 'sandbox')?.addOption(option);

program
  .command('spec')
  .description("print the OpenAPI 3.0 YAML of the app's skills (register it in the DingTalk console)")
  .argument('[app]', 'app folder or file', '.')
  .addOption(
    new Option('--protocol <protocol>', 'how the platform calls the skills')
      .choices(['stream', 'http'])
      .default('stream'),
  )
  .option('--server-url <url>', 'server URL for HTTP actions')
  .action((app: string, opts) => specCommand(app, opts));

program
  .command('invoke')
  .description('run one skill through a running sandbox as a user and print the transcript')
  .argument('<skill>', 'operationId of the skill')
  .requiredOption('--user <userId>', 'seeded user (zhangsan, lisi)')
  .option('--data <json>', 'the skill parameters as a JSON object', '{}')
  .option('--auto-consent', 'approve the authorization card headlessly')
  .option('--json', 'print the transcript as JSON')
  .option('--sandbox <url>', 'sandbox base URL (default http://127.0.0.1:$DINGTALK_SANDBOX_PORT)')
  .action((skill: string, opts) => invokeCommand(skill, opts));

program
  .command('init')
  .description('create a new project: one skill acting as the user, a sandbox test, tsconfig, README')
  .argument('<dir>', 'new or empty folder')
  .option('--esm', 'an ES module project ("type": "module", the default)')
  .option('--cjs', 'a CommonJS project ("type": "commonjs")')
  .option('--name <name>', 'npm package name (default: the folder name)')
  .addHelpText(
    'after',
    '\nExamples:\n  npx dingtalk-skills init my-skills\n  npx dingtalk-skills init my-skills --cjs',
  )
  .action((dir: string, opts) => initCommand(dir, opts, (line) => process.stdout.write(`${line}\n`)));

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`dingtalk-skills: ${e.message}\n`);
    if (
      !(err instanceof EnvError || err instanceof AppLoadError) &&
      /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')
    )
      process.stderr.write(`${e.stack}\n`);
    process.exit(err instanceof EnvError || err instanceof AppLoadError ? 2 : 1);
  }
}

void main();
