#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { tlsOptions } from './commands/tls.js';
import { EnvError } from './env.js';
import {
  AppLoadError,
  EXIT_CODES_HELP,
  ExitCode,
  LOG_FORMATS,
  SandboxUnreachableError,
  UsageError,
} from './exit-codes.js';

// Commands are imported when they run, so `--help`, `--version` and usage errors start fast.
const { version: VERSION } = createRequire(import.meta.url)('../package.json') as { version: string };

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

const logFormatOption = () =>
  new Option(
    '--log-format <format>',
    'log lines on stderr: pretty (coloured; NO_COLOR turns colour off) or json (NDJSON); default pretty on a terminal, json otherwise',
  ).choices(LOG_FORMATS);

/** Help text after a command's options: examples, then the exit codes. */
const examples = (...lines: string[]) =>
  `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n${EXIT_CODES_HELP}`;

const program = new Command();
program
  .name('dingtalk-skills')
  .description(
    'DingTalk AI assistant skills with user-delegated credentials (用户代理凭证): dev, start, sandbox, spec, invoke, mcp call',
  )
  .version(VERSION)
  .showHelpAfterError()
  // Parse errors throw (inherited by every command below) so main() can exit with code 2.
  .exitOverride()
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills dev examples/crm          # sandbox + app; open the printed URL',
      'npx dingtalk-skills spec ./my-app.ts > openapi.yaml',
      `npx dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --auto-consent`,
      'DINGTALK_CLIENT_ID=... DINGTALK_CLIENT_SECRET=... npx dingtalk-skills start ./my-app.ts',
      'npx dingtalk-skills help <command>            # flags and examples of one command',
    ),
  );

const opsPortOption = () =>
  new Option(
    '--ops-port <port>',
    'serve /metrics, /healthz and /readyz on this port (e.g. 9464; 0 = any free port; default $DINGTALK_OPS_PORT, else off)',
  ).argParser(intOption('--ops-port', 0, 65535));
const opsHostOption = () =>
  new Option('--ops-host <host>', 'interface of the ops endpoints (default $DINGTALK_OPS_HOST or 127.0.0.1)');
/** `--mcp-port`, `--mcp-host`, `--mcp-public-url` of `dev` and `start`. */
const mcpOptions = () => [
  new Option(
    '--mcp-port <port>',
    "also serve the skills as a remote MCP server (Streamable HTTP + OAuth 2.1 federating to DingTalk's login) on this port (0 = any free port; default $DINGTALK_MCP_PORT, else off)",
  ).argParser(intOption('--mcp-port', 0, 65535)),
  new Option(
    '--mcp-host <host>',
    'interface of the MCP server (default: --host for dev, 127.0.0.1 for start)',
  ),
  new Option(
    '--mcp-public-url <url>',
    "the MCP server's public base URL behind a proxy, e.g. https://skills.example.com (tokens are bound to <url>/mcp)",
  ),
];
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
  .addOption(logFormatOption())
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills dev                       # the app in the current folder',
      'npx dingtalk-skills dev ./my-app.ts --port 9000 --ephemeral',
      'npx dingtalk-skills dev examples/crm --log-format json > dev.log',
      'LOG_LEVEL=debug npx dingtalk-skills dev ./my-app.ts   # each OpenAPI call and request, secrets redacted',
    ),
  )
  .action(async (app: string, opts) => (await import('./commands/dev.js')).devCommand(app, opts));
for (const option of [...tlsOptions(), ...mcpOptions()])
  program.commands.find((c) => c.name() === 'dev')?.addOption(option);

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
  .addOption(logFormatOption())
  .addHelpText(
    'after',
    `${examples(
      'DINGTALK_CLIENT_ID=ding... DINGTALK_CLIENT_SECRET=... npx dingtalk-skills start ./my-app.ts',
      'DINGTALK_API_BASE=http://127.0.0.1:8720 DINGTALK_CLIENT_ID=dingsandboxapp001 DINGTALK_CLIENT_SECRET=sandbox-secret npx dingtalk-skills start .',
      'DINGTALK_STATE=redis://127.0.0.1:6379 npx dingtalk-skills start . --connections 2 --ops-port 9464',
    )}\n\nEnvironment: DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET (required), DINGTALK_API_BASE, DINGTALK_STATE,\n  DINGTALK_TOKEN_KEY, DINGTALK_OPS_PORT, DINGTALK_OPS_HOST, LOG_LEVEL, NO_COLOR;\n  bots: DINGTALK_BOT_CONSENT_URL, DINGTALK_LOGIN_BASE, DINGTALK_OAPI_BASE (docs/bots.md)`,
  )
  .action(async (app: string, opts) => (await import('./commands/start.js')).startCommand(app, opts));
for (const option of mcpOptions()) program.commands.find((c) => c.name() === 'start')?.addOption(option);

program
  .command('sandbox')
  .description('the sandbox alone (a local DingTalk for apps written with any SDK)')
  .addOption(hostOption())
  .addOption(portOption())
  .option('--ephemeral', 'keep everything in memory (no SQLite file)')
  .option('--db <path>', 'the SQLite file')
  .addOption(callbackRedeliveryOption())
  .addOption(logFormatOption())
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills sandbox                   # http://127.0.0.1:8720/, data in memory',
      'npx dingtalk-skills sandbox --port 0 --ephemeral',
      'npx dingtalk-skills sandbox --callback-redelivery 10000,30000,60000',
    ),
  )
  .action(async (opts) => (await import('./commands/sandbox.js')).sandboxCommand(opts));
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
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills spec examples/crm',
      'npx dingtalk-skills spec ./my-app.ts > openapi.yaml',
      'npx dingtalk-skills spec . --protocol http --server-url https://skills.example.com',
    ),
  )
  .action(async (app: string, opts) => (await import('./commands/spec.js')).specCommand(app, opts));

program
  .command('invoke')
  .description('run one skill through a running sandbox as a user and print the transcript')
  .argument('<skill>', 'operationId of the skill')
  .requiredOption('--user <userId>', 'seeded user (zhangsan, lisi)')
  .option('--data <json>', 'the skill parameters as a JSON object', '{}')
  .option('--auto-consent', 'approve the authorization card headlessly')
  .option('--json', 'print the transcript as JSON')
  .option('--sandbox <url>', 'sandbox base URL (default http://127.0.0.1:$DINGTALK_SANDBOX_PORT)')
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills invoke whoami --user zhangsan --auto-consent',
      `npx dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --auto-consent --json`,
      'npx dingtalk-skills invoke listMyTodos --user zhangsan --sandbox http://127.0.0.1:9000',
    ),
  )
  .action(async (skill: string, opts) => (await import('./commands/invoke.js')).invokeCommand(skill, opts));

program
  .command('mcp')
  .description('a headless MCP client for scripts (the official MCP SDK client)')
  .command('call')
  .description(
    'call one tool of a running MCP server (dev --mcp-port) as a sandbox user, walking the OAuth consent pages, and print the transcript',
  )
  .argument('<tool>', 'tool name (the skill operationId)')
  .requiredOption('--user <userId>', 'seeded user who signs in at the sandbox (zhangsan, lisi)')
  .option('--data <json>', 'the tool arguments as a JSON object', '{}')
  .option('--auto-consent', 'approve our consent page and the sandbox DingTalk consent page headlessly')
  .option('--json', 'print the transcript as JSON')
  .option('--url <url>', 'the MCP endpoint (default http://127.0.0.1:$DINGTALK_MCP_PORT/mcp, port 8731)')
  .addHelpText(
    'after',
    examples(
      'npx dingtalk-skills dev examples/crm --mcp-port 8731   # in another terminal',
      'npx dingtalk-skills mcp call whoami --user zhangsan --auto-consent',
      `npx dingtalk-skills mcp call createTodo --user lisi --data '{"subject":"买牛奶"}' --auto-consent --json`,
    ),
  )
  .action(async (tool: string, opts) => (await import('./commands/mcp-call.js')).mcpCallCommand(tool, opts));

/** The exit code for an error a command threw (documented in EXIT_CODES_HELP). */
function exitCodeOf(err: unknown): number {
  if (err instanceof EnvError || err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof AppLoadError) return ExitCode.InvalidApp;
  if (err instanceof SandboxUnreachableError) return ExitCode.SandboxUnreachable;
  return ExitCode.Failed;
}

program
  .command('init')
  .description('create a new project: one skill acting as the user, a sandbox test, tsconfig, README')
  .argument('<dir>', 'new or empty folder')
  .option('--esm', 'an ES module project ("type": "module", the default)')
  .option('--cjs', 'a CommonJS project ("type": "commonjs")')
  .option('--name <name>', 'npm package name (default: the folder name)')
  .addHelpText(
    'after',
    examples('npx dingtalk-skills init my-skills', 'npx dingtalk-skills init my-skills --cjs'),
  )
  .action(async (dir: string, opts) =>
    (await import('./commands/init/index.js')).initCommand(dir, opts, (line) =>
      process.stdout.write(`${line}\n`),
    ),
  );

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed the message (and the help); --help and --version end with exitCode 0.
      process.exit(err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage);
    }
    const e = err as Error;
    const code = exitCodeOf(err);
    process.stderr.write(`dingtalk-skills: ${e.message}\n`);
    if (code === ExitCode.Failed && /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? ''))
      process.stderr.write(`${e.stack}\n`);
    process.exit(code);
  }
}

void main();
