/**
 * The e2e workload, run inside the bench process: one sandbox (`createSandbox`) and the example CRM app
 * (`startApp`, a real Stream connection to the sandbox's gateway), the user consents once, then the
 * assistant invokes `whoami` over and over: assistant -> Graph CALLBACK over Stream -> skill -> OpenAPI
 * `GET /v1.0/contact/users/me` with the user's token -> Graph answer -> ack -> transcript. Bundled by
 * `../shared/bundle.ts` (SDK, sandbox and example from source), so a stale `dist` is never measured.
 */
import { performance } from 'node:perf_hooks';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { generateSpecYaml, type RunningApp, silentLogger } from '@dingtalk-skills/sdk';
import crm from '../../examples/crm/app.js';
import { drive, perSecond } from '../shared/drive.js';
import { startSeedApp } from '../shared/seed-app.js';
import { quantile } from '../shared/stats.js';

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

async function runCase(
  sandbox: Sandbox,
  c: E2ECase,
  config: E2EConfig,
  log: (line: string) => void,
): Promise<E2EResult> {
  let app: RunningApp | undefined;
  try {
    app = await startSeedApp(sandbox, crm, c.appQps);
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
    const result: E2EResult = {
      name: c.name,
      via: c.via,
      appQps: c.appQps,
      roundTripsPerS: perSecond(run),
      p50Ms: quantile(run.latencies, 0.5),
      p99Ms: quantile(run.latencies, 0.99),
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
