#!/usr/bin/env node
// The `dingtalk-skills` command. Committed (not built) so that npm links it on the very first
// `npm install` of a fresh clone, before `prepare` has built dist/; it loads the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write(
    `dingtalk-skills: the CLI is not built (${fileURLToPath(built)} is missing): run \`npm run build\` in the repository root\n`,
  );
  process.exit(1);
}
await import(built.href);
