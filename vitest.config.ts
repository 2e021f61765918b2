import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@dingtalk-skills\/sdk\/internal$/, replacement: src('./packages/sdk/src/internal.ts') },
      { find: /^@dingtalk-skills\/sdk\/([a-z]+)$/, replacement: `${src('./packages/sdk/src/')}$1/index.ts` },
      { find: /^@dingtalk-skills\/sdk$/, replacement: src('./packages/sdk/src/index.ts') },
      { find: /^@dingtalk-skills\/sandbox$/, replacement: src('./packages/sandbox/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: [src('./test/support/fast-check-seed.ts')],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
