/**
 * The mcp workload, run inside the bench process: Debian's redis-server, one sandbox, and the example CRM
 * app started once or twice (`startApp` with `mcp`, shared state on Redis, instance 2 behind the same
 * public URL). 张三 authorizes an MCP client once (the headless official client walks both consent
 * pages); then `whoami` (a user-token skill: OpenAPI `GET /v1.0/contact/users/me` with 张三's token) is
 * called over and over, either as an MCP `tools/call` (HTTP POST with our bearer token, round-robin over
 * the instances) or through the sandbox's assistant over Stream (a Graph CALLBACK; the gateway picks the
 * connection). Bundled by `../shared/bundle.ts` (SDK, sandbox and example from source).
 */
import { performance } from 'node:perf_hooks';
import {
  createSandbox,
  HeadlessOAuthProvider,
  mcpCall,
  type Sandbox,
  SEED_APP,
} from '@dingtalk-skills/sandbox';
import {
  createSharedState,
  generateSpecYaml,
  type RunningApp,
  type SharedState,
  silentLogger,
  startApp,
} from '@dingtalk-skills/sdk';
import crm from '../../examples/crm/app.js';
import { startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { drive, perSecond } from '../shared/drive.js';
import { quantile } from '../shared/stats.js';

export type McpVia = 'mcp' | 'stream';

export interface McpCase {
  name: string;
  via: McpVia;
  instances: 1 | 2;
}

export interface McpBenchConfig {
  cases: readonly McpCase[];
  maxCalls: number;
  seconds: number;
  warmup: number;
  window: number;
}

export interface McpBenchResult extends McpCase {
  callsPerS: number;
  p50Ms: number;
  p99Ms: number;
  n: number;
  errors: number;
  firstError: string | undefined;
}

const USER = 'zhangsan';
const WARMUP_MAX_MS = 2_000;
const RAISED_QPS = 100_000;
const TOKEN_KEY = Buffer.alloc(32, 9).toString('base64');

interface Instances {
  apps: RunningApp[];
  states: SharedState[];
  /** Each instance's MCP endpoint on its own port. */
  urls: string[];
  token: string;
}

async function startInstances(sandbox: Sandbox, redisUrl: string, n: number): Promise<Instances> {
  const apps: RunningApp[] = [];
  const states: SharedState[] = [];
  const urls: string[] = [];
  let publicUrl: string | undefined;
  for (let i = 0; i < n; i++) {
    const state = await createSharedState({
      url: redisUrl,
      logger: silentLogger(),
      clientId: SEED_APP.clientId,
      tokenKeys: TOKEN_KEY,
      qps: RAISED_QPS,
    });
    states.push(state);
    const app = await startApp(crm, {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger: silentLogger(),
      tokenStore: state.tokenStore,
      dedupStore: state.dedupStore,
      refreshLock: state.refreshLock,
      rateLimiter: state.rateLimiter,
      answerStore: state.store,
      mcp: { port: 0, ...(publicUrl ? { publicUrl } : {}), auth: { loginBase: sandbox.url } },
    });
    apps.push(app);
    urls.push(`http://127.0.0.1:${app.mcp!.port}/mcp`);
    if (!publicUrl) {
      publicUrl = app.mcp!.url.replace(/\/mcp$/, '');
      sandbox.platform.addRedirectUri(SEED_APP.clientId, app.mcp!.callbackUrl!);
    }
  }
  const connected = sandbox.gateway.listConnections().filter((c) => c.appId === SEED_APP.clientId);
  if (connected.length < n)
    throw new Error(`only ${connected.length} of ${n} instances connected over Stream`);
  const provider = new HeadlessOAuthProvider('bench');
  const auth = await mcpCall({ url: urls[0]!, tool: 'whoami', userId: USER, autoConsent: true, provider });
  const token = provider.savedTokens?.access_token;
  if (auth.status !== 'done' || !token)
    throw new Error(`MCP authorization failed: ${JSON.stringify(auth.steps.at(-1))}`);
  const consent = await sandbox.assistant.invoke({ operationId: 'whoami', userId: USER, autoConsent: true });
  if (consent.status !== 'done') throw new Error('Stream consent round trip failed');
  return { apps, states, urls, token };
}

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

function mcpOnce(urls: string[], token: string): () => Promise<string | undefined> {
  let next = 0;
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  };
  return async () => {
    const url = urls[next++ % urls.length]!;
    const res = await fetch(url, { method: 'POST', headers, body: BODY });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
    return text.includes('"name":"张三"') && !text.includes('"isError":true')
      ? undefined
      : `unexpected answer: ${text.slice(0, 200)}`;
  };
}

function streamOnce(sandbox: Sandbox): () => Promise<string | undefined> {
  return async () => {
    const out = await sandbox.assistant.invoke({ operationId: 'whoami', userId: USER, autoConsent: false });
    const last = out.transcript.at(-1) as { step?: string; body?: { name?: string } } | undefined;
    return out.status === 'done' && last?.step === 'result' && last.body?.name === '张三'
      ? undefined
      : `${out.status}: ${JSON.stringify(last)}`;
  };
}

async function measure(
  c: McpCase,
  once: () => Promise<string | undefined>,
  config: McpBenchConfig,
  log: (line: string) => void,
): Promise<McpBenchResult> {
  const warm = await drive(once, config.warmup, config.window, performance.now() + WARMUP_MAX_MS);
  if (warm.errors > 0) throw new Error(`${c.name}: warm-up failed: ${warm.firstError}`);
  const run = await drive(once, config.maxCalls, config.window, performance.now() + config.seconds * 1000);
  const r: McpBenchResult = {
    ...c,
    callsPerS: perSecond(run),
    p50Ms: quantile(run.latencies, 0.5),
    p99Ms: quantile(run.latencies, 0.99),
    n: run.ok,
    errors: run.errors,
    firstError: run.firstError,
  };
  log(
    `mcp ${c.name}: ${r.n} calls, ${r.callsPerS.toFixed(1)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}`,
  );
  return r;
}

/** Per instance count: start the instances, authorize once, run the cases of that count, stop. */
export async function runMcpBench(
  config: McpBenchConfig,
  log: (line: string) => void,
): Promise<McpBenchResult[]> {
  const redis = await startRedisServer();
  const sandbox = await createSandbox({ port: 0, ephemeral: true, logger: silentLogger() });
  const results: McpBenchResult[] = [];
  try {
    sandbox.assistant.registerSkillsYaml(
      SEED_APP.clientId,
      generateSpecYaml(crm.skills, { title: crm.name, protocol: 'stream' }),
    );
    for (const n of [1, 2] as const) {
      const cases = config.cases.filter((c) => c.instances === n);
      if (cases.length === 0) continue;
      const inst = await startInstances(sandbox, redis.url, n);
      try {
        for (const c of cases)
          results.push(
            await measure(
              c,
              c.via === 'mcp' ? mcpOnce(inst.urls, inst.token) : streamOnce(sandbox),
              config,
              log,
            ),
          );
      } finally {
        for (const app of inst.apps) await app.stop();
        for (const s of inst.states) await s.close();
      }
    }
    return results;
  } finally {
    await sandbox.close();
    await redis.stop();
  }
}
