#!/usr/bin/env node
import { VERSION } from '@dingtalk-skills/sdk';
import { Command, Option } from 'commander';
import { specCommand } from './commands/spec.js';
import { EnvError } from './env.js';
import { AppLoadError } from './load-app.js';

const program = new Command();
program
  .name('dingtalk-skills')
  .description(
    'DingTalk AI assistant skills with user-delegated credentials (用户代理凭证): dev, start, sandbox, spec, invoke',
  )
  .version(VERSION);

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
  .action(async (app: string, opts: { protocol: 'stream' | 'http'; serverUrl?: string }) => {
    await specCommand(app, opts);
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof EnvError || err instanceof AppLoadError) {
      process.stderr.write(`dingtalk-skills: ${err.message}\n`);
      process.exit(2);
    }
    const e = err as Error;
    process.stderr.write(`dingtalk-skills: ${e.message}\n`);
    if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace')
      process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  }
}

void main();
