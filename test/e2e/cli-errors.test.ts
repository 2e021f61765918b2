/**
 * Every error a user can trigger in the `dingtalk-skills` CLI, with its text and exit code, run against
 * the built CLI (packages/cli/dist). Exit codes: 1 failed while running, 2 usage / environment, 4 the
 * app cannot load or breaks DingTalk's rules, 5 no sandbox at the URL (3, waiting for consent, and the
 * unknown-skill answer of a running sandbox are in cli-invoke.test.ts). `spec`, `dev` and `start`
 * refuse an invalid app with the same message (one validateApp). Also: `start` against an unreachable
 * DINGTALK_API_BASE names the URL and the cause and says so in one line after a few failures.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../support/child-process.js';
import { BIN, ROOT, runCli } from './dev-process.js';
import { type TempProject, tempProject } from './temp-project.js';

const skill = (extra: string) => `defineSkill({
  operationId: 'addNote', summary: 'add a note', description: 'Adds a note',
  input: z.object({ text: z.string() }), handler: () => ({}), ${extra}
})`;
const app = (skills: string) => `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';
export default defineApp({ name: 'Errors', skills: [${skills}] });
`;

/** Apps that load but break DingTalk's rules, and the issue each must be refused with. */
const INVALID: { name: string; file: string; source: string; issue: string }[] = [
  {
    name: 'duplicate operationId',
    file: 'dup.ts',
    source: app(`${skill("path: '/a'")}, ${skill("path: '/b'")}`),
    issue: 'addNote: operationId is not unique',
  },
  {
    name: 'nested input',
    file: 'nested.ts',
    source: app(skill('input: z.object({ address: z.object({ city: z.string() }) })')),
    issue:
      'addNote: body field "address" is a nested object: POST bodies must be one flat level of an object',
  },
  {
    name: 'path template variable that is not an input field',
    file: 'template.ts',
    source: app(skill("method: 'GET', path: '/v1/notes/{id}'")),
    issue:
      'addNote: path parameter "{id}" of /v1/notes/{id} is not a field of input: add id to the input object',
  },
  {
    name: 'path without a leading /',
    file: 'slash.ts',
    source: app(skill("path: 'v1/notes'")),
    issue: 'addNote: path "v1/notes" must start with "/"',
  },
];

let project: TempProject;
let busy: Server;
let busyPort = 0;
const START_ENV = {
  DINGTALK_CLIENT_ID: 'dingerrorsapp',
  DINGTALK_CLIENT_SECRET: 'errors-secret',
  DINGTALK_API_BASE: 'http://127.0.0.1:9',
};

beforeAll(async () => {
  project = tempProject('module');
  project.write('ok.ts', app(skill('')));
  for (const a of INVALID) project.write(a.file, a.source);
  project.write('syntax.ts', 'export default defineApp({ name: "x", skills: [ });\n');
  project.write('noexport.ts', 'export const something = 1;\n');
  project.write('missing-import.ts', "import { x } from 'not-installed-package';\nexport default x;\n");
  project.write('throws.ts', "throw new Error('the app module failed at load');\n");
  project.write('empty/README.md', '');
  project.write('badmain/package.json', JSON.stringify({ main: './nope.ts' }));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
}, 30_000);
afterAll(async () => {
  await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
  project?.remove();
});

interface Row {
  argv: () => string[];
  env?: Record<string, string>;
  /** A part of what the CLI prints on stderr (a function when it names a file of the temp project). */
  stderr: string | (() => string | string[]);
  code: number;
}

const p = (name: string) => `${project.dir}/${name}`;

const ROWS: [string, Row][] = [
  ['unknown command', { argv: () => ['nosuch'], stderr: "error: unknown command 'nosuch'", code: 2 }],
  ['unknown option', { argv: () => ['spec', '--nope'], stderr: "error: unknown option '--nope'", code: 2 }],
  [
    'missing required option',
    {
      argv: () => ['invoke', 'whoami'],
      stderr: "error: required option '--user <userId>' not specified",
      code: 2,
    },
  ],
  [
    'bad --log-format',
    {
      argv: () => ['dev', '--log-format', 'xml'],
      stderr: "option '--log-format <format>' argument 'xml' is invalid. Allowed choices are pretty, json.",
      code: 2,
    },
  ],
  [
    'bad --port',
    {
      argv: () => ['dev', '--port', '70000'],
      stderr: '--port must be an integer from 0 to 65535',
      code: 2,
    },
  ],
  [
    'bad --connections',
    {
      argv: () => ['start', '--connections', '0'],
      stderr: '--connections must be an integer from 1 to 16',
      code: 2,
    },
  ],
  [
    'bad --protocol',
    {
      argv: () => ['spec', '--protocol', 'ftp'],
      stderr: "argument 'ftp' is invalid. Allowed choices are stream, http.",
      code: 2,
    },
  ],
  [
    'bad --callback-redelivery',
    {
      argv: () => ['sandbox', '--callback-redelivery', '10,abc'],
      stderr: '--callback-redelivery must be up to 100 comma-separated delays in ms',
      code: 2,
    },
  ],
  [
    '--data not JSON',
    {
      argv: () => ['invoke', 'whoami', '--user', 'zhangsan', '--data', '{subject:'],
      stderr: 'dingtalk-skills: --data must be JSON:',
      code: 2,
    },
  ],
  [
    '--data not an object',
    {
      argv: () => ['invoke', 'whoami', '--user', 'zhangsan', '--data', '[1,2]'],
      stderr: 'dingtalk-skills: --data must be a JSON object',
      code: 2,
    },
  ],
  [
    'invalid environment variable',
    {
      argv: () => ['invoke', 'whoami', '--user', 'zhangsan'],
      env: { DINGTALK_SANDBOX_PORT: 'abc' },
      stderr: 'dingtalk-skills: invalid environment:\n  DINGTALK_SANDBOX_PORT:',
      code: 2,
    },
  ],
  [
    'invalid LOG_LEVEL',
    {
      argv: () => ['sandbox', '--port', '0', '--ephemeral'],
      env: { LOG_LEVEL: 'loud' },
      stderr: 'dingtalk-skills: invalid environment:\n  LOG_LEVEL:',
      code: 2,
    },
  ],
  [
    'start without DINGTALK_CLIENT_ID',
    {
      argv: () => ['start', p('ok.ts')],
      stderr: 'dingtalk-skills: DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are required',
      code: 2,
    },
  ],
  [
    'app not found',
    { argv: () => ['spec', 'no/such/app'], stderr: 'dingtalk-skills: app not found: no/such/app', code: 4 },
  ],
  [
    'folder without an app entry',
    {
      argv: () => ['spec', p('empty')],
      stderr: 'no app entry in',
      code: 4,
    },
  ],
  [
    'package.json main that does not exist',
    {
      argv: () => ['spec', p('badmain')],
      stderr: '(./nope.ts) does not exist',
      code: 4,
    },
  ],
  [
    'syntax error in the app',
    {
      argv: () => ['spec', p('syntax.ts')],
      stderr: 'syntax.ts: it has a syntax error:',
      code: 4,
    },
  ],
  [
    'no app exported',
    {
      argv: () => ['spec', p('noexport.ts')],
      stderr:
        'noexport.ts has no app: expected `export default defineApp({ name, skills })` (or `module.exports = defineApp(...)`); its exports: something',
      code: 4,
    },
  ],
  [
    'a module the app imports is not installed',
    {
      argv: () => ['spec', p('missing-import.ts')],
      stderr: 'a module it imports cannot be found (is it installed?)',
      code: 4,
    },
  ],
  [
    'the app throws while loading',
    {
      argv: () => ['spec', p('throws.ts')],
      stderr: 'throws.ts: it threw while loading:\nthe app module failed at load',
      code: 4,
    },
  ],
  [
    'no sandbox at the URL',
    {
      argv: () => ['invoke', 'whoami', '--user', 'zhangsan', '--sandbox', 'http://127.0.0.1:9'],
      stderr:
        'dingtalk-skills: no sandbox answers at http://127.0.0.1:9 (start one with: npx dingtalk-skills dev)',
      code: 5,
    },
  ],
  [
    'sandbox port in use',
    {
      argv: () => ['sandbox', '--port', String(busyPort), '--ephemeral'],
      stderr: () =>
        `dingtalk-skills: the sandbox could not start on 127.0.0.1:${busyPort}: listen EADDRINUSE`,
      code: 1,
    },
  ],
];

for (const a of INVALID)
  for (const command of ['spec', 'dev', 'start'] as const)
    ROWS.push([
      `${command} refuses an app with a ${a.name}`,
      {
        argv: () =>
          command === 'dev' ? ['dev', p(a.file), '--port', '0', '--ephemeral'] : [command, p(a.file)],
        ...(command === 'start' ? { env: START_ENV } : {}),
        stderr: () => [
          `dingtalk-skills: ${p(a.file)}: the skills break DingTalk's rules for AI assistant actions:\n  - `,
          `\n  - ${a.issue}\n`,
        ],
        code: 4,
      },
    ]);

describe('every CLI error: its message and exit code', () => {
  it.concurrent.each(ROWS)(
    '%s',
    async (_name, row) => {
      const run = await runCli(row.argv(), 60_000, {
        cwd: project.dir,
        ...(row.env ? { env: row.env } : {}),
      });
      const expected = typeof row.stderr === 'function' ? row.stderr() : row.stderr;
      for (const part of Array.isArray(expected) ? expected : [expected]) expect(run.stderr).toContain(part);
      expect(run.code, run.stderr).toBe(row.code);
      expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace for a user error
    },
    180_000,
  );
});

describe('start against an unreachable DINGTALK_API_BASE', () => {
  it('names the URL and the cause, and prints one human line after a few failures', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const base = `http://127.0.0.1:${port}`;
    const start = spawnNode([BIN, 'start', p('ok.ts'), '--log-format', 'json'], {
      cwd: ROOT,
      env: { ...process.env, ...START_ENV, DINGTALK_API_BASE: base, LOG_LEVEL: 'warn' },
    });
    try {
      const deadline = Date.now() + 60_000;
      while (!start.stderr().includes('Still retrying') && start.alive() && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      const err = start.stderr();
      expect(err).toContain(
        `dingtalk-skills: cannot connect to DingTalk at ${base} (3 attempts in a row): connections/open at ${base}/v1.0/gateway/connections/open failed: connection refused by 127.0.0.1:${port} (ECONNREFUSED: nothing listens there). Still retrying`,
      );
      // Each failure's log line names the URL and the cause too.
      expect(err).toContain(
        `"msg":"connections/open at ${base}/v1.0/gateway/connections/open failed: connection refused by 127.0.0.1:${port} (ECONNREFUSED`,
      );
      // Said once, not on every retry.
      expect(err.split('cannot connect to DingTalk').length).toBe(2);
    } finally {
      await start.stop(10_000);
    }
  }, 90_000);
});
