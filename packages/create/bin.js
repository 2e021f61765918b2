#!/usr/bin/env node
// create-dingtalk-skills: `npm create dingtalk-skills@latest my-app [-- --cjs]` runs
// `dingtalk-skills init my-app [--cjs]` with the CLI of the same version (a dependency of this package).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
if (args.length === 0 || args[0].startsWith('-')) {
  process.stderr.write(
    'usage: npm create dingtalk-skills@latest <dir> [-- --esm|--cjs] [--name <name>]\n' +
      '   or: npx create-dingtalk-skills <dir> [--esm|--cjs] [--name <name>]\n',
  );
  process.exit(1);
}
const require = createRequire(import.meta.url);
const pkgPath = require.resolve('dingtalk-skills/package.json');
const bin = JSON.parse(readFileSync(pkgPath, 'utf8')).bin['dingtalk-skills'];
const result = spawnSync(process.execPath, [join(dirname(pkgPath), bin), 'init', ...args], {
  stdio: 'inherit',
});
if (result.error) {
  process.stderr.write(`create-dingtalk-skills: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
