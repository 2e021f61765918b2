import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { within } from '../support/wait.js';
import { SHARED_KINDS, StateKit, sleep } from './state-kit.js';

const kit = new StateKit();
afterEach(() => kit.closeStores());
afterAll(() => kit.closeAll());

const CLAIM_RACE = fileURLToPath(new URL('./fixtures/claim-race.ts', import.meta.url));

interface Contender {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
}

function contender(url: string, prefix: string, n: number): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', CLAIM_RACE, url, prefix, String(n)]);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return {
    child,
    out: () => (child.exitCode !== null && child.exitCode !== 0 ? `exit ${child.exitCode}: ${err}` : out),
  };
}

async function waitForLine(c: Contender, text: string, what: string): Promise<void> {
  await within(
    (async () => {
      while (!c.out().includes(text)) {
        if (c.child.exitCode !== null) throw new Error(`contender exited early: ${c.out()}`);
        await sleep(20);
      }
    })(),
    30_000,
    what,
  );
}

describe.each(SHARED_KINDS)('%s: three processes racing on one store', (kind) => {
  it('every key is claimed exactly once, no increment or swap is lost', async () => {
    const b = await kit.backing(kind);
    const n = 1000;
    const contenders = [0, 1, 2].map(() => contender(b.url, b.prefix, n));
    try {
      for (const c of contenders) await waitForLine(c, 'ready', 'a contender to open the store');
      for (const c of contenders) c.child.stdin.write('go\n');
      for (const c of contenders) await waitForLine(c, '"wins"', 'a contender to finish');
      const results = contenders.map((c) =>
        JSON.parse(
          c
            .out()
            .split('\n')
            .find((l) => l.startsWith('{')) as string,
        ),
      );
      expect(results.reduce((sum, r) => sum + r.wins, 0)).toBe(n);
      expect(results.map((r) => r.swaps)).toEqual([n, n, n]);
      const store = await b.open();
      expect(await store.get('counter')).toBe(String(3 * n));
      expect(await store.get('cas')).toBe(String(3 * n));
      const owners = new Set<string>();
      for (let i = 0; i < n; i++) owners.add((await store.get(`race-${i}`)) as string);
      expect([...owners].every((o) => contenders.some((c) => String(c.child.pid) === o))).toBe(true);
    } finally {
      for (const c of contenders) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
  });
});
