/**
 * The workload of the app-calls suite (`calls.ts`), bundled by esbuild and imported into the bench
 * process, so the tsx loader's transform is not measured (under tsx the same loop costs about 7.3 µs a
 * call instead of about 4.8). The skill path without the socket, in this process. `SkillsApp.handleGraph` is
 * called in a loop with the app suite's Graph CALLBACK (`createCustomer`: zod input and output), one at
 * a time, each answer checked. Variants: `full` (one async middleware and Prometheus metrics, as the
 * `ours-app` client), `no-metrics`, `no-middleware`, so the cost of each part is the difference. Per
 * variant: the fastest and the median round in µs per call. No gateway, no child process: far less
 * noise than the process harness, so a change of a few tenths of a µs shows; it does not measure
 * decoding frames, the socket or scheduling (the `app` suite does).
 */
import { Metrics, silentLogger } from '../../packages/sdk/src/index.js';
import type { Middleware } from '../../packages/sdk/src/skills/middleware.js';
import { SkillsApp } from '../../packages/sdk/src/skills/skills-app.js';
import { graphRequestData } from '../stream/workload.js';
import { createCustomer } from './skill.js';

export const VARIANTS = ['full', 'no-metrics', 'no-middleware'] as const;
export type Variant = (typeof VARIANTS)[number];

/** An app of one variant, and how often its middleware ran. */
export function makeApp(variant: Variant): { app: SkillsApp; ran: () => number } {
  let ran = 0;
  const middleware: Middleware[] =
    variant === 'no-middleware'
      ? []
      : [
          async (_state, next) => {
            ran++;
            await next();
          },
        ];
  const app = new SkillsApp({
    skills: [createCustomer],
    logger: silentLogger(),
    // No scopes: the credential is never resolved, and nothing here calls DingTalk.
    credentials: { resolve: async () => undefined },
    userApiFor: () => {
      throw new Error('the benchmark skill has no user API');
    },
    appApi: {} as never,
    middleware,
    ...(variant === 'no-metrics' ? {} : { observer: new Metrics() }),
  });
  return { app, ran: () => ran };
}

/** The Graph CALLBACK payloads, made once: the loop measures the app, not building the workload. */
const DATAS = Array.from({ length: 1000 }, (_, i) => graphRequestData(i));

/** µs per call over `count` sequential calls. */
export async function timeCalls(app: SkillsApp, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const res = await app.handleGraph({ messageId: `m${i}`, data: DATAS[i % DATAS.length] as string });
    if (res.statusLine.code !== 200)
      throw new Error(`call ${i} answered ${res.statusLine.code}: ${res.body}`);
  }
  return Number(process.hrtime.bigint() - started) / count / 1000;
}
