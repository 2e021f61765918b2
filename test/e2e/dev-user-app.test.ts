/**
 * `dingtalk-skills dev` on a user's own app (a temp project outside the repository), not the example:
 * the sandbox's cards and consent page show the app's name from defineApp; a skill whose DingTalk 403
 * names a scope it does not declare gets a warning naming the skill and the scope, in the app's log and
 * in the `invoke` transcript; with `--log-format pretty` the log is human-readable lines (no colour when
 * stderr is not a terminal) and a skill error's stack is on lines of its own; without the flag, off a
 * terminal, every log line is one JSON object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProcess, runCli, startDev } from './dev-process.js';
import { type TempProject, tempProject } from './temp-project.js';

const APP = `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

const addNote = defineSkill({
  operationId: 'addNote',
  summary: 'add a note',
  description: 'Saves a note as a to-do of the user',
  input: z.object({ text: z.string() }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => {
    await ctx.userApi.todo.create({ subject: input.text });
    return { saved: input.text };
  },
});

// Reads the calendar (Calendar.Event.Read) but declares only the to-do scope.
const peek = defineSkill({
  operationId: 'peek',
  summary: 'peek at the calendar',
  description: 'Reads the calendar without declaring the scope',
  method: 'GET',
  path: '/v1/actions/notes/peek',
  input: z.object({}),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (_input, ctx) => {
    const page = await ctx.userApi.calendar.listEvents(ctx.user.unionId ?? 'me', { maxResults: 5 });
    return { events: page.events.length };
  },
});

const boom = defineSkill({
  operationId: 'boom',
  summary: 'fail',
  description: 'Throws an error',
  input: z.object({}),
  handler: () => {
    throw new Error('kaboom in the skill');
  },
});

export default defineApp({ name: 'Notes 笔记', skills: [addNote, peek, boom] });
`;

interface Step {
  step: string;
  [key: string]: unknown;
}

let project: TempProject;
let dev: DevProcess;
let entry: string;
beforeAll(async () => {
  project = tempProject('module');
  entry = project.write('app.ts', APP);
  dev = await startDev(entry, 40_000, ['--log-format', 'pretty']);
}, 60_000);
afterAll(async () => {
  const stopped = await dev?.stop();
  project?.remove();
  expect(stopped?.code).toBe(0);
});

const invoke = (...args: string[]) => runCli(['invoke', ...args, '--sandbox', dev.url], 30_000);

describe('dev on a user app: the sandbox shows the app name from defineApp', () => {
  it('the seed app, the authorization card and the consent page carry "Notes 笔记"', async () => {
    const apps = (await (await fetch(`${dev.url}/sandbox/apps`)).json()) as {
      apps: { clientId: string; name: string }[];
    };
    expect(apps.apps.find((a) => a.clientId === 'dingsandboxapp001')?.name).toBe('Notes 笔记');
    const run = await invoke('addNote', '--user', 'lisi', '--data', '{"text":"milk"}', '--json');
    expect(run.code).toBe(3);
    const card = (JSON.parse(run.stdout) as Step[])[1]!;
    expect(card).toMatchObject({ step: 'auth_card', appName: 'Notes 笔记' });
    expect(String(card.message)).toContain('Notes 笔记');
    const page = await (await fetch(String(card.consentUrl))).text();
    expect(page).toContain('Notes 笔记');
    expect(page).not.toContain('Sandbox CRM');
  });
});

describe('a 403 naming a scope the skill does not declare', () => {
  it('warns in the transcript and in the log, naming the skill and the scope', async () => {
    // lisi first grants the declared to-do scope, so `peek` runs and meets DingTalk's 403.
    const grant = await invoke('addNote', '--user', 'lisi', '--data', '{"text":"milk"}', '--auto-consent');
    expect(grant.code, grant.stdout + grant.stderr).toBe(0);
    const run = await invoke('peek', '--user', 'lisi', '--auto-consent', '--json');
    const steps = JSON.parse(run.stdout) as Step[];
    expect(steps.map((s) => s.step)).toEqual(['invoke', 'auth_card', 'consent', 'invoke', 'result']);
    expect(steps[1]).toMatchObject({ trigger: 'skill', undeclaredScopes: ['Calendar.Event.Read'] });
    expect(String(steps[1]!.warning)).toContain(
      'skill "peek" needs Calendar.Event.Read but does not declare it: declare it in `scopes`',
    );
    expect(run.code).toBe(0);
    expect(dev.output()).toContain(
      'skill "peek" needs Calendar.Event.Read but does not declare it: declare it in `scopes`',
    );
  });

  it('the text transcript prints the warning on its own line', async () => {
    const run = await invoke('peek', '--user', 'zhangsan', '--data', '{}');
    // zhangsan has granted nothing: the platform asks for the declared scope first (exit 3) ...
    expect(run.code).toBe(3);
    await invoke('addNote', '--user', 'zhangsan', '--data', '{"text":"x"}', '--auto-consent');
    // ... once it is granted, the skill's 403 brings the warning.
    const again = await invoke('peek', '--user', 'zhangsan');
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(
      /\n⚠ warning: skill "peek" needs Calendar\.Event\.Read but does not declare it/,
    );
  });
});

describe('--log-format pretty', () => {
  it('prints readable lines without colour off a terminal, and the stack of a skill error line by line', async () => {
    const run = await invoke('boom', '--user', 'zhangsan');
    expect(run.code).toBe(1);
    const deadline = Date.now() + 10_000;
    while (!dev.output().includes('kaboom in the skill') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const out = dev.output();
    expect(out).toContain('skill handler threw');
    expect(out).toContain('kaboom in the skill');
    expect(out).toMatch(/\n\s+at .*app\.ts:\d+/); // a stack frame of the user's file on its own line
    expect(out).not.toContain('\u001b['); // no ANSI colour: stderr is a pipe
    expect(out).not.toMatch(/^\{"level"/m); // not NDJSON
  });
});

describe('without --log-format, off a terminal', () => {
  it('every log line on stderr is one JSON object', async () => {
    const json = await startDev(entry, 40_000);
    try {
      await runCli(['invoke', 'boom', '--user', 'zhangsan', '--sandbox', json.url], 30_000);
    } finally {
      expect((await json.stop()).code).toBe(0);
    }
    const lines = json
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines.some((l) => l.includes('kaboom in the skill'))).toBe(true);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
