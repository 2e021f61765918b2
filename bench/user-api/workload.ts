/**
 * The user-api workload, run inside the bench process (bundled with the SDK and the sandbox from source):
 * one sandbox and, per case, a fresh app (`startApp`) whose skill `whoami` calls `contact.me` through the
 * sandbox's OpenAPI with the user's delegated token. The user consents once per app; then the skill is
 * invoked `--messages` times with a window in flight. Every TCP connection the sandbox's HTTP server
 * accepts while a case runs is counted (`sandbox.server.server.on('connection')`): the app's keep-alive
 * pool should open at most its size, however many calls it makes.
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, type RunningApp, silentLogger } from '@dingtalk-skills/sdk';
import { parseOpenApiClientConfig } from '@dingtalk-skills/sdk/openapi';
import type { GraphResponse } from '@dingtalk-skills/sdk/protocol';
import { z } from 'zod';
import { drive, perSecond } from '../shared/drive.js';
import { startSeedApp } from '../shared/seed-app.js';
import { quantile } from '../shared/stats.js';

/** How a case invokes the skill. */
export type UserApiVia = 'direct' | 'stream';

export interface UserApiCase {
  /** Row label. */
  name: string;
  /** The app's outbound limit per API; undefined = the SDK's default (DingTalk's 20 QPS per API). */
  appQps: number | undefined;
  /** `direct`: `skills.handleGraph` in process; `stream`: a Graph CALLBACK from the sandbox's gateway. */
  via: UserApiVia;
  /** Stop after this many invocations... */
  invocations: number;
  /** ...or after this many seconds. */
  seconds: number;
}

export interface UserApiConfig {
  cases: readonly UserApiCase[];
  /** Invocations in flight. */
  window: number;
  /** Invocations before the measured ones (not timed; their connections count). */
  warmup: number;
}

export interface UserApiResult {
  name: string;
  via: UserApiVia;
  appQps: number | undefined;
  /** Successful invocations per second (first start -> last end). */
  invocationsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Successful measured invocations. */
  n: number;
  errors: number;
  firstError: string | undefined;
  /** TCP connections the sandbox accepted from the consent call to the last invocation. */
  tcpConnections: number;
  /** Invocations made while counting: consent + warm-up + measured (each one `contact.me` call). */
  calls: number;
  /** The app's OpenAPI pool size (connections per origin). */
  poolSize: number;
}

const USER = { userId: 'zhangsan', unionId: 'union-zhangsan', name: '张三' };
const GRAPH_TOPIC = '/v1.0/graph/api/invoke';

const whoami = defineSkill({
  operationId: 'whoami',
  summary: 'Who am I',
  description: 'Reads the user profile as the user (contact.me).',
  method: 'GET',
  path: '/v1/actions/me',
  input: z.object({}),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId };
  },
});
const app = defineApp({ name: 'bench user-api', skills: [whoami] });

/** The Graph request the assistant sends for `whoami` (context params in the query). */
function graphRequest(code?: string) {
  const query = `userId=${USER.userId}&unionId=${USER.unionId}&corpId=dingsandboxcorp${code ? `&oauthAuthCode=${encodeURIComponent(code)}` : ''}`;
  return {
    requestLine: { method: 'GET', uri: `/v1/actions/me?${query}` },
    headers: { 'content-type': 'application/json', 'x-ability-key': 'whoami' },
    body: '',
  };
}

/** Undefined when the answer is whoami's 200 for 张三; else what went wrong. */
function problemOf(response: unknown): string | undefined {
  const r = response as GraphResponse | undefined;
  if (r?.statusLine?.code === 200 && (JSON.parse(r.body) as { name?: unknown }).name === USER.name)
    return undefined;
  return JSON.stringify(response).slice(0, 300);
}

function invoker(sandbox: Sandbox, running: RunningApp, via: UserApiVia) {
  let seq = 0;
  if (via === 'direct')
    return async (code?: string) =>
      problemOf(
        await running.skills.handleGraph({
          messageId: `bench-${++seq}`,
          data: JSON.stringify(graphRequest(code)),
        }),
      );
  return async (code?: string) => {
    const result = await sandbox.gateway.invokeCallback({
      topic: GRAPH_TOPIC,
      data: graphRequest(code),
      clientId: SEED_APP.clientId,
      timeoutMs: 10_000,
    });
    if (result.status !== 'answered') return `callback ${result.status}`;
    return problemOf(result.response);
  };
}

async function runCase(
  sandbox: Sandbox,
  c: UserApiCase,
  config: UserApiConfig,
  counter: { connections: number },
  log: (line: string) => void,
): Promise<UserApiResult> {
  let running: RunningApp | undefined;
  try {
    running = await startSeedApp(sandbox, app, c.appQps);
    const once = invoker(sandbox, running, c.via);
    // From here on every accepted connection is the app's OpenAPI pool (the Stream socket is open).
    counter.connections = 0;
    const code = sandbox.platform.authorize({
      userId: USER.userId,
      clientId: SEED_APP.clientId,
      scopes: ['Contact.User.Read'],
    }).code;
    const consent = await once(code);
    if (consent !== undefined) throw new Error(`consent invocation failed: ${consent}`);
    let calls = 1;
    // Warm-up only where the limit does not bind (at 20 QPS it would only wait).
    if (config.warmup > 0 && c.appQps !== undefined) {
      const warm = await drive(() => once(), config.warmup, config.window, performance.now() + 5_000);
      if (warm.errors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
      calls += warm.started;
    }
    const run = await drive(() => once(), c.invocations, config.window, performance.now() + c.seconds * 1000);
    const result: UserApiResult = {
      name: c.name,
      via: c.via,
      appQps: c.appQps,
      invocationsPerS: perSecond(run),
      p50Ms: quantile(run.latencies, 0.5),
      p99Ms: quantile(run.latencies, 0.99),
      n: run.ok,
      errors: run.errors,
      firstError: run.firstError,
      tcpConnections: counter.connections,
      calls: calls + run.started,
      poolSize: parseOpenApiClientConfig({
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
      }).maxConnections,
    };
    log(
      `user-api ${c.name} via ${c.via}: ${result.n} invocations, ${result.invocationsPerS.toFixed(1)}/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.tcpConnections} TCP connection(s) (pool ${result.poolSize}), errors ${result.errors}${run.firstError ? ` (first: ${run.firstError})` : ''}`,
    );
    return result;
  } finally {
    await running?.stop();
  }
}

/** Starts one sandbox, runs every case with a fresh app (a fresh pool), closes everything. */
export async function runUserApi(
  config: UserApiConfig,
  log: (line: string) => void,
): Promise<UserApiResult[]> {
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  const counter = { connections: 0 };
  sandbox.server.server.on('connection', () => {
    counter.connections++;
  });
  try {
    const results: UserApiResult[] = [];
    for (const c of config.cases) results.push(await runCase(sandbox, c, config, counter, log));
    return results;
  } finally {
    await sandbox.close();
  }
}
