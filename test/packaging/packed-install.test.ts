/**
 * The packages as a user gets them from npm: `npm pack` of @dingtalk-skills/sdk, @dingtalk-skills/sandbox
 * and dingtalk-skills, installed into fresh `npm init -y` projects (CommonJS, npm's default) outside the
 * repository. A TypeScript user app is type-checked with `tsc --strict` and run with `npx dingtalk-skills`
 * spec, dev (own process group) and invoke; the SDK tarball alone is enough for the library; and
 * `dingtalk-skills init` writes a project whose own `npm test` passes against the installed tarballs.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type Background,
  background,
  freshProject,
  localSqlitePrebuild,
  npmInstall,
  ok,
  packAll,
  REPO,
  type Run,
  run,
  userEnv,
} from './support.js';

interface Step {
  step: string;
  body?: unknown;
  [key: string]: unknown;
}

const USER_APP = `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

export const getTicket = defineSkill({
  operationId: 'getTicket',
  summary: 'Get a ticket 查看工单',
  description: 'Reads one ticket by its id. 按编号查看工单。',
  method: 'GET',
  path: '/v1/tickets/{id}',
  input: z.object({ id: z.string() }),
  output: z.object({ id: z.string(), title: z.string() }),
  handler: async (input) => {
    // @ts-expect-error the input is typed from the zod schema: id is a string, not a number
    const wrong: number = input.id;
    void wrong;
    return { id: input.id, title: \`Ticket \${input.id.toUpperCase()}\` };
  },
});

export const whoami = defineSkill({
  operationId: 'whoami',
  summary: 'Who am I 我是谁',
  description: "Reads the user's profile with their delegated credential. 查看当前用户信息。",
  method: 'GET',
  path: '/v1/me',
  input: z.object({}),
  output: z.object({ name: z.string(), unionId: z.string() }),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId };
  },
});

export default defineApp({ name: 'Packed tickets 工单', version: '1.0.0', skills: [getTicket, whoami] });
`;

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      noEmit: true,
      skipLibCheck: false,
    },
    include: ['src'],
  },
  null,
  2,
)}\n`;

/** The SDK alone, from CommonJS (npm init's default) and from an ES module. */
const SDK_ONLY_CJS = `const { defineApp, defineSkill, generateSpecYaml, silentLogger } = require('@dingtalk-skills/sdk');
const { createStateStore } = require('@dingtalk-skills/sdk/state');
const { z } = require('zod');
const echo = defineSkill({
  operationId: 'echo', summary: 'Echo', description: 'Echoes.', path: '/v1/echo',
  input: z.object({ text: z.string() }), handler: async (input) => ({ text: input.text }),
});
const app = defineApp({ name: 'sdk only', skills: [echo] });
(async () => {
  const memory = await createStateStore('memory:', { logger: silentLogger() });
  await memory.close();
  let sqlite = 'opened';
  try {
    const store = await createStateStore('sqlite:' + __dirname + '/state.db', { logger: silentLogger() });
    await store.close();
  } catch (err) {
    sqlite = err.code + ' ' + err.message;
  }
  console.log(JSON.stringify({ skills: app.skills.length, spec: generateSpecYaml(app.skills, { title: app.name }).includes('/v1/echo'), sqlite }));
})().catch((err) => { console.error(err); process.exit(1); });
`;
const SDK_ONLY_ESM = `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';
const app = defineApp({ name: 'esm', skills: [defineSkill({ operationId: 'ping', summary: 'Ping', description: 'Pings.', path: '/v1/ping', input: z.object({}), handler: async () => ({ ok: true }) })] });
console.log(JSON.stringify({ esm: app.skills.length }));
`;

let root: string;
let tarballs: Awaited<ReturnType<typeof packAll>>;
/** The user's environment; `installEnv` adds the local better-sqlite3 prebuild for npm install only. */
let env: NodeJS.ProcessEnv;
let installEnv: NodeJS.ProcessEnv;
let userProject: string;
let sdkProject: string;
/** `dingtalk-skills init --cjs` and the install of the new project, started once the CLI is installed. */
let scaffolded: Promise<{ dir: string; init: Run; again: Run }>;
/** The running `dev`, stopped by its test or, when the test timed out, by afterAll. */
let dev: Background | undefined;
/** `tsc --strict` of the user app, started once it is installed. */
let typecheck: Promise<Run>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dingtalk-skills-packed-'));
  expect(root.startsWith(REPO)).toBe(false);
  const [packed, prebuild] = await Promise.all([
    packAll(join(root, 'tarballs')),
    localSqlitePrebuild(join(root, 'prebuilds')),
  ]);
  tarballs = packed;
  env = userEnv();
  installEnv = userEnv(prebuild);
  userProject = join(root, 'user-app');
  sdkProject = join(root, 'sdk-only');
  await Promise.all([
    freshProject(userProject, { 'src/app.ts': USER_APP, 'tsconfig.json': TSCONFIG }),
    freshProject(sdkProject, { 'app.js': SDK_ONLY_CJS, 'app.mjs': SDK_ONLY_ESM }),
  ]);
  // The two installs share the warm npm cache and run side by side.
  await Promise.all([
    npmInstall(
      userProject,
      [tarballs.sdk, tarballs.sandbox, tarballs.cli, 'zod', 'typescript@5.9', '@types/node@20'],
      installEnv,
    ),
    npmInstall(sdkProject, [tarballs.sdk], installEnv),
  ]);
  // The scaffold's install runs while the tests below type-check and run the user app.
  scaffolded = scaffold(join(root, 'scaffold-cjs'));
  scaffolded.catch(() => undefined); // awaited (and reported) by its test
  const tsc = join(userProject, 'node_modules', 'typescript', 'bin', 'tsc');
  typecheck = run('node', [tsc, '-p', '.'], { cwd: userProject, env, timeoutMs: 400_000 });
}, 900_000);

async function scaffold(dir: string): Promise<{ dir: string; init: Run; again: Run }> {
  const cli = join(userProject, 'node_modules', '.bin', 'dingtalk-skills');
  const init = ok('init', await run(cli, ['init', dir, '--cjs'], { cwd: root, env, timeoutMs: 60_000 }));
  // A second init into the same folder refuses and writes nothing.
  const again = await run(cli, ['init', dir], { cwd: root, env, timeoutMs: 60_000 });
  await npmInstall(dir, [tarballs.sdk, tarballs.sandbox, tarballs.cli], installEnv);
  return { dir, init, again };
}

afterAll(async () => {
  await dev?.stopGroup(5_000);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed tarballs in a fresh CommonJS project outside the repository', () => {
  const npx = (args: string[], timeoutMs = 120_000) =>
    run('npx', ['--no', 'dingtalk-skills', ...args], { cwd: userProject, env, timeoutMs });

  it('npm init -y made a CommonJS project; the tarballs carry README, LICENSE, CHANGELOG and no build leftovers', async () => {
    const pkg = JSON.parse(await readFile(join(userProject, 'package.json'), 'utf8')) as { type?: string };
    expect(pkg.type ?? 'commonjs').toBe('commonjs');
    for (const dir of ['@dingtalk-skills/sdk', '@dingtalk-skills/sandbox', 'dingtalk-skills']) {
      const at = join(userProject, 'node_modules', dir);
      for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'])
        expect(existsSync(join(at, f)), `${dir}/${f}`).toBe(true);
      expect(existsSync(join(at, 'dist', '.tsbuildinfo')), `${dir} ships tsbuildinfo`).toBe(false);
      expect(existsSync(join(at, 'src')), `${dir} ships src`).toBe(false);
    }
    // One zod: the user's schemas and the SDK's are the same library (zod is the SDK's peer dependency).
    expect(
      existsSync(join(userProject, 'node_modules', '@dingtalk-skills', 'sdk', 'node_modules', 'zod')),
    ).toBe(false);
  });

  it('npx dingtalk-skills spec prints the path-parameter skill and the delegated scope', async () => {
    const r = ok('spec', await npx(['spec', 'src/app.ts']));
    const doc = parse(r.stdout) as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            parameters?: { name: string; in: string }[];
            'x-dingtalk-delegated-scopes'?: string[];
          }
        >
      >;
    };
    const ticket = doc.paths['/v1/tickets/{id}']?.get;
    expect(ticket?.operationId).toBe('getTicket');
    expect(ticket?.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }));
    expect(doc.paths['/v1/me']?.get?.['x-dingtalk-delegated-scopes']).toEqual(['Contact.User.Read']);
  }, 130_000);

  it('npx dingtalk-skills dev, then invoke of the path-parameter skill and of the skill acting as the user', async () => {
    try {
      dev = background(
        'npx',
        ['--no', 'dingtalk-skills', 'dev', 'src/app.ts', '--port', '0', '--ephemeral'],
        {
          cwd: userProject,
          env,
        },
      );
      const url = await dev.waitFor(/assistant page\s+(http:\/\/127\.0\.0\.1:\d+)\//, 120_000);

      const me = await npx([
        'invoke',
        'whoami',
        '--user',
        'zhangsan',
        '--auto-consent',
        '--json',
        '--sandbox',
        url,
      ]);
      expect(me.code, me.stdout + me.stderr).toBe(0);
      const steps = JSON.parse(me.stdout) as Step[];
      expect(steps.map((s) => s.step)).toEqual(['invoke', 'auth_card', 'consent', 'invoke', 'result']);
      expect(steps.at(-1)).toMatchObject({ status: 200, body: { name: '张三', unionId: 'union-zhangsan' } });

      const ticket = await npx([
        'invoke',
        'getTicket',
        '--user',
        'zhangsan',
        '--data',
        '{"id":"T1"}',
        '--auto-consent',
        '--json',
        '--sandbox',
        url,
      ]);
      expect(ticket.code, ticket.stdout + ticket.stderr).toBe(0);
      const ticketSteps = JSON.parse(ticket.stdout) as Step[];
      expect(ticketSteps.at(-1)).toMatchObject({
        step: 'result',
        status: 200,
        body: { id: 'T1', title: 'Ticket T1' },
      });
    } finally {
      const gone = await dev?.stopGroup(15_000);
      expect(gone, `processes of dev were left running; output:\n${dev?.output().slice(-3000)}`).toBe(true);
    }
  }, 300_000);

  it('tsc --strict type-checks the user app (no skipLibCheck): the SDK ships its types', async () => {
    ok('tsc --strict', await typecheck);
  }, 420_000);
});

describe('the SDK tarball alone', () => {
  it('installs without the sandbox, the CLI or native modules, and builds an app from CommonJS and ESM', async () => {
    const modules = join(sdkProject, 'node_modules');
    expect(existsSync(join(modules, '@dingtalk-skills', 'sdk'))).toBe(true);
    for (const absent of ['@dingtalk-skills/sandbox', 'dingtalk-skills', 'better-sqlite3', 'fastify'])
      expect(existsSync(join(modules, absent)), absent).toBe(false);
    expect(existsSync(join(modules, 'zod')), 'zod, the peer dependency, is installed').toBe(true);

    const cjs = ok('node app.js', await run('node', ['app.js'], { cwd: sdkProject, env, timeoutMs: 60_000 }));
    const out = JSON.parse(cjs.stdout.trim().split('\n').at(-1)!) as {
      skills: number;
      spec: boolean;
      sqlite: string;
    };
    expect(out.skills).toBe(1);
    expect(out.spec).toBe(true);
    // sqlite: state loads better-sqlite3 on first use; without it the error says what to install.
    expect(out.sqlite).toMatch(/^ERR_CONFIG .*npm install better-sqlite3/);

    const esm = ok(
      'node app.mjs',
      await run('node', ['app.mjs'], { cwd: sdkProject, env, timeoutMs: 60_000 }),
    );
    expect(JSON.parse(esm.stdout.trim())).toEqual({ esm: 1 });
  }, 130_000);
});

describe('dingtalk-skills init', () => {
  it('init --cjs writes a project whose own npm test passes with the packed tarballs', async () => {
    const { dir, init, again } = await scaffolded;
    expect(init.stdout).toContain('npm test');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not empty');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { type: string };
    expect(pkg.type).toBe('commonjs');
    const test = await run('npm', ['test'], { cwd: dir, env, timeoutMs: 180_000 });
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/# pass 2/);
    expect(test.stdout).toMatch(/# fail 0/);
  }, 600_000);
});
