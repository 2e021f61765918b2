/**
 * The files `dingtalk-skills init` writes: a small app with one skill that acts as the user (用户代理凭证),
 * a test that runs it against the sandbox in-process (node:test + tsx), tsconfig and README.
 * ESM or CommonJS only changes package.json's `type`; the sources are the same for both.
 */

export type ModuleKind = 'esm' | 'cjs';

export interface ScaffoldOptions {
  /** npm package name of the new project. */
  name: string;
  module: ModuleKind;
  /** Version of the dingtalk-skills packages (the CLI's own). */
  version: string;
  /** Version ranges taken from the CLI's package.json, so the project matches what the CLI was tested with. */
  ranges: { zod: string; tsx: string };
}

/** Relative path -> file content. */
export type ScaffoldFiles = Record<string, string>;

export function scaffoldFiles(o: ScaffoldOptions): ScaffoldFiles {
  return {
    'package.json': packageJson(o),
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'src/app.ts': APP_TS,
    'test/app.test.ts': TEST_TS,
    'README.md': readme(o),
    '.gitignore': 'node_modules/\ndist/\n*.db\n*.db-*\n.env\n',
  };
}

function packageJson(o: ScaffoldOptions): string {
  const pkg = {
    name: o.name,
    version: '0.1.0',
    private: true,
    type: o.module === 'esm' ? 'module' : 'commonjs',
    description: 'DingTalk AI assistant skills acting with the user-delegated credential (用户代理凭证)',
    main: 'src/app.ts',
    // A CommonJS project loads the ESM-only SDK through require(esm), unflagged since Node 20.19.
    engines: { node: o.module === 'esm' ? '>=20' : '>=20.19' },
    scripts: {
      dev: 'dingtalk-skills dev src/app.ts',
      spec: 'dingtalk-skills spec src/app.ts',
      start: 'dingtalk-skills start src/app.ts',
      test: 'node --import tsx --test test/app.test.ts',
      typecheck: 'tsc',
    },
    dependencies: {
      '@dingtalk-skills/sdk': `^${o.version}`,
      zod: o.ranges.zod,
    },
    devDependencies: {
      '@dingtalk-skills/sandbox': `^${o.version}`,
      '@types/node': '^20.19.0',
      'dingtalk-skills': `^${o.version}`,
      tsx: o.ranges.tsx,
      typescript: '^5.9.0',
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    skipLibCheck: true,
    forceConsistentCasingInFileNames: true,
  },
  include: ['src', 'test'],
};

const APP_TS = `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

/**
 * Reads the current user's DingTalk profile with their delegated credential (用户代理凭证).
 * The first time, the assistant shows an authorization card (授权卡片); after the user consents,
 * the skill runs again and \`ctx.userApi\` calls DingTalk's OpenAPI as that user.
 */
export const whoami = defineSkill({
  operationId: 'whoami',
  summary: '我是谁 Who am I',
  description: "Shows the current user's DingTalk profile. 查看当前用户的钉钉个人信息。",
  method: 'GET',
  path: '/v1/me',
  input: z.object({}),
  output: z.object({ name: z.string(), unionId: z.string() }),
  scopes: ['Contact.User.Read'], // x-dingtalk-delegated-scopes
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId };
  },
});

export default defineApp({
  name: 'My skills 我的技能',
  version: '0.1.0',
  description: 'Skills acting with the user-delegated credential. 以用户身份调用钉钉开放接口的技能。',
  skills: [whoami],
});
`;

const TEST_TS = `/**
 * Runs the app's skills against the dingtalk-skills sandbox (a local DingTalk) in this process: the app
 * connects over a real Stream connection, the assistant calls the skill as a seeded user, shows the
 * authorization card, consents headlessly and runs the skill again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSandbox, SEED_APP, type Sandbox } from '@dingtalk-skills/sandbox';
import { generateSpecYaml, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import app from '../src/app.js';

interface Step {
  step: string;
  body?: unknown;
}

let sandbox: Sandbox;
let running: RunningApp;

before(async () => {
  sandbox = await createSandbox({ port: 0, ephemeral: true, logger: silentLogger() });
  running = await startApp(app, {
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
  });
  // Register the skills in the sandbox's assistant from the same YAML \`npm run spec\` prints.
  const spec = generateSpecYaml(app.skills, { title: app.name, protocol: 'stream' });
  const res = await fetch(\`\${sandbox.url}/sandbox/skills\`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: spec,
  });
  assert.equal(res.ok, true, await res.text());
});

after(async () => {
  await running?.stop();
  await sandbox?.close();
});

async function invoke(operationId: string, userId: string, autoConsent: boolean) {
  const res = await fetch(\`\${sandbox.url}/sandbox/assistant/invoke\`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operationId, userId, params: {}, autoConsent }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { status: string; transcript: Step[] };
}

test('whoami without consent: the assistant shows the authorization card', async () => {
  const answer = await invoke('whoami', 'lisi', false);
  assert.equal(answer.status, 'awaiting_consent');
  assert.deepEqual(
    answer.transcript.map((s) => s.step),
    ['invoke', 'auth_card'],
  );
});

test('whoami with consent: runs as the user and returns their profile', async () => {
  const answer = await invoke('whoami', 'zhangsan', true);
  assert.deepEqual(
    answer.transcript.map((s) => s.step),
    ['invoke', 'auth_card', 'consent', 'invoke', 'result'],
  );
  assert.deepEqual(answer.transcript.at(-1)?.body, { name: '张三', unionId: 'union-zhangsan' });
});
`;

function readme(o: ScaffoldOptions): string {
  return `# ${o.name}

DingTalk (钉钉) AI assistant skills that act with the user's delegated credentials (用户代理凭证),
built with [dingtalk-skills](https://www.npmjs.com/package/dingtalk-skills) ${o.version}
(${o.module === 'esm' ? 'ESM, `"type": "module"`' : 'CommonJS, `"type": "commonjs"`'}).

## Commands 常用命令

\`\`\`sh
npm install
npm test            # runs src/app.ts against the sandbox in-process 在进程内用沙箱测试技能
npm run dev         # local DingTalk sandbox + your app + the assistant page 本地沙箱 + 助理页面
npm run spec        # the OpenAPI YAML to register in the DingTalk console 生成技能描述 (OpenAPI)
npm run typecheck   # tsc --strict
\`\`\`

With \`npm run dev\` running, run a skill as a seeded user from another terminal
（在另一个终端以沙箱用户身份调用技能）:

\`\`\`sh
npx dingtalk-skills invoke whoami --user zhangsan --auto-consent
\`\`\`

## Files 文件

- \`src/app.ts\`: the app (\`defineApp\`) and its skill \`whoami\` (\`defineSkill\`), which reads the user's
  profile through \`ctx.userApi\` with their delegated token. 应用与技能定义。
- \`test/app.test.ts\`: starts the sandbox and the app in the test process and invokes the skill through
  the sandbox's assistant: authorization card (授权卡片), consent (授权), result. 技能测试。

## Against DingTalk 连接真实钉钉

Create an app in the DingTalk developer console (钉钉开放平台), register the YAML from \`npm run spec\`
as the skills' API description, then:

\`\`\`sh
DINGTALK_CLIENT_ID=... DINGTALK_CLIENT_SECRET=... npm start
\`\`\`

\`DINGTALK_STATE\` (\`memory:\`, \`sqlite:<path>\`, \`redis://...\`) and \`DINGTALK_TOKEN_KEY\` choose where the
users' tokens are kept (encrypted). \`sqlite:\` needs \`npm install better-sqlite3\`.
`;
}
