/**
 * The e2e workload, run inside the bench process: one sandbox (`createSandbox`) and the example CRM app
 * (`startApp`, a real Stream connection to the sandbox's gateway), the user consents once, then the
 * assistant invokes `whoami` over and over: assistant -> Graph CALLBACK over Stream -> skill -> OpenAPI
 * `GET /v1.0/contact/users/me` with the user's token -> Graph answer -> ack -> transcript. Bundled by
 * `bundle.ts` (SDK, sandbox and example from source), so a stale `dist` is never measured.
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import {
  generateSpecYaml,
  type RunningApp,
  silentLogger,
  startApp,
  WindowRateLimiter,
} from '@dingtalk-skills/sdk';
import crm from '../../examples/crm/app.js';

/** How a case drives the assistant. */
export type E2EVia = 'assistant.invoke' | 'http';

/** One measured configuration. */
export interface E2ECase {
  /** Label of the row (`default-20qps`, `raised`, ...). */
  name: string;
  /** The app's outbound limit per API; undefined = the SDK's default (DingTalk's 20 QPS per API). */
  appQps: number | undefined;
  via: E2EVia;
}

export interface E2EConfig {
  cases: readonly E2ECase[];
  /** Most round trips measured per case. */
  maxRoundTrips: number;
  /** Longest measured phase per case (s). */
  seconds: number;
  /** Warm-up round trips per case (at most 2 s of them). */
  warmup: number;
  /** Round trips in flight. */
  window: number;
}

export interface E2EResult {
  name: string;
  via: E2EVia;
  appQps: number | undefined;
  /** Successful round trips per second (first start -> last end of the measured phase). */
  roundTripsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Successful round trips measured. */
  n: number;
  /** Round trips that did not end with `whoami`'s result for 张三. */
  errors: number;
  /** The first error, for the log. */
  firstError: string | undefined;
}

const USER = 'zhangsan';
const WARMUP_MAX_MS = 2_000;

interface Step {
  step: string;
  body?: unknown;
  code?: string;
  message?: string;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** Undefined when the transcript ends with whoami's result for 张三; else what went wrong. */
function problemOf(status: string, transcript: readonly Step[]): string | undefined {
  const last = transcript.at(-1);
  if (status === 'done' && last?.step === 'result' && (last.body as { name?: unknown })?.name === '张三')
    return undefined;
  return `${status}: ${JSON.stringify(last)}`;
}

function invoker(sandbox: Sandbox, via: E2EVia): (autoConsent: boolean) => Promise<string | undefined> {
  if (via === 'assistant.invoke')
    return async (autoConsent) => {
      const out = await sandbox.assistant.invoke({ operationId: 'whoami', userId: USER, autoConsent });
      return problemOf(out.status, out.transcript as Step[]);
    };
  const url = `${sandbox.url}/sandbox/assistant/invoke`;
  return async (autoConsent) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operationId: 'whoami', userId: USER, autoConsent }),
    });
    const text = await res.text();
    if (!res.ok) return `HTTP ${res.status}: ${text}`;
    const out = JSON.parse(text) as { status: string; transcript: Step[] };
    return problemOf(out.status, out.transcript);
  };
}

/** Runs `once` with `window` in flight until `count` were started or `untilMs` passed. */
async function drive(
  once: () => Promise<string | undefined>,
  count: number,
  window: number,
  untilMs: number,
): Promise<{ latencies: Float64Array; ok: number; errors: number; firstError?: string; ms: number }> {
  const latencies = new Float64Array(count);
  let started = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  let last = t0;
  const worker = async () => {
    while (started < count && performance.now() < untilMs) {
      started++;
      const begin = performance.now();
      let problem: string | undefined;
      try {
        problem = await once();
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      const end = performance.now();
      last = Math.max(last, end);
      if (problem === undefined) latencies[ok++] = end - begin;
      else {
        errors++;
        firstError ??= problem;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, window) }, worker));
  return {
    latencies: latencies.subarray(0, ok),
    ok,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    ms: last - t0,
  };
}

async function runCase(
  sandbox: Sandbox,
  c: E2ECase,
  config: E2EConfig,
  log: (line: string) => void,
): Promise<E2EResult> {
  let app: RunningApp | undefined;
  try {
    app = await startApp(crm, {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      apiBase: sandbox.url,
      logger: silentLogger(),
      now: () => sandbox.context.clock.now(),
      ...(c.appQps === undefined ? {} : { rateLimiter: new WindowRateLimiter({ qps: c.appQps }) }),
    });
    await sandbox.gateway.waitForConnection({ clientId: SEED_APP.clientId }, 10_000);
    const once = invoker(sandbox, c.via);
    // Consent once: this app instance holds no token yet, so the skill answers with a card; the
    // headless consent gives it an oauthAuthCode to exchange. Every later call uses the stored token.
    const consent = await once(true);
    if (consent !== undefined) throw new Error(`consent round trip failed: ${consent}`);
    const warm = await drive(
      () => once(false),
      config.warmup,
      config.window,
      performance.now() + WARMUP_MAX_MS,
    );
    if (warm.errors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
    const run = await drive(
      () => once(false),
      config.maxRoundTrips,
      config.window,
      performance.now() + config.seconds * 1000,
    );
    const sorted = Float64Array.from(run.latencies).sort();
    const result: E2EResult = {
      name: c.name,
      via: c.via,
      appQps: c.appQps,
      roundTripsPerS: run.ms > 0 ? (run.ok * 1000) / run.ms : 0,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      n: run.ok,
      errors: run.errors,
      firstError: run.firstError,
    };
    log(
      `e2e ${c.name} via ${c.via}: ${result.n} round trips, ${result.roundTripsPerS.toFixed(1)}/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}${run.firstError ? ` (first: ${run.firstError})` : ''}`,
    );
    return result;
  } finally {
    await app?.stop();
  }
}

/** Starts one sandbox, runs every case with a fresh app instance, closes everything. */
export async function runE2E(config: E2EConfig, log: (line: string) => void): Promise<E2EResult[]> {
  const sandbox = await createSandbox({ ephemeral: true, logger: silentLogger() });
  try {
    sandbox.assistant.registerSkillsYaml(
      SEED_APP.clientId,
      generateSpecYaml(crm.skills, { title: crm.name, protocol: 'stream' }),
    );
    const results: E2EResult[] = [];
    for (const c of config.cases) results.push(await runCase(sandbox, c, config, log));
    return results;
  } finally {
    await sandbox.close();
  }
}
