/**
 * Importing the SDK loads only what every app needs (issue 14): ioredis, yaml, undici and prom-client
 * load when a Redis store, a YAML spec, the first OpenAPI call or a Metrics object needs them. Checked
 * in a fresh Node process (the module cache of this one is shared by other tests).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
/** `@dingtalk-skills/sdk/state`: the stores are exported from the subpath, not the root. */
const STATE_ENTRY = fileURLToPath(new URL('../../src/state/index.ts', import.meta.url));
// express and ajv stand for the MCP server (the MCP SDK is ESM; these CommonJS packages load with it).
const LAZY = ['ioredis', 'yaml', 'undici', 'prom-client', 'better-sqlite3', 'express', 'ajv'];

/** Runs `body` (after importing the SDK as `sdk`) in a fresh process; returns the packages it loaded. */
async function loadedPackages(body: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const sdk = await import(${JSON.stringify(ENTRY)});
    ${body}
    const keys = Object.keys(createRequire(import.meta.url).cache);
    const names = new Set(keys.map((k) => k.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...names]));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('lazy loading of optional parts', () => {
  it('importing the SDK and building an app runtime loads none of ioredis, yaml, undici, prom-client, better-sqlite3, nor the MCP server (express, ajv); importing /state loads no store driver', async () => {
    const loaded = await loadedPackages(`
      const app = sdk.defineApp({ name: 'lazy', skills: [] });
      const rt = sdk.createAppRuntime(app, { clientId: 'dinglazy', clientSecret: 'not-a-secret', logger: sdk.silentLogger() });
      await rt.openapi.close();
      await import(${JSON.stringify(STATE_ENTRY)});
    `);
    expect(loaded).toContain('pino');
    expect(loaded.filter((p) => LAZY.includes(p))).toEqual([]);
  }, 90_000);

  it('each loads when first used: Metrics, a YAML spec, a Redis store object (from /state)', async () => {
    const loaded = await loadedPackages(`
      new sdk.Metrics({ defaultMetrics: false });
      sdk.generateSpecYaml([], { title: 'lazy', version: '1.0.0' });
      const state = await import(${JSON.stringify(STATE_ENTRY)});
      const store = new state.RedisStateStore({ url: 'redis://127.0.0.1:1', logger: sdk.silentLogger() });
      await store.close();
    `);
    expect(loaded).toEqual(expect.arrayContaining(['prom-client', 'yaml', 'ioredis']));
  }, 90_000);
});
