import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { createOpenApiClient, type OpenApiClient, silentLogger } from '@dingtalk-skills/sdk';

/** A card as `GET /sandbox/cards/:outTrackId` answers it. */
export interface ControlCard {
  outTrackId: string;
  flowStatus: string | null;
  text: string;
  spaces: Array<{ spaceType: string; id: string }>;
  streaming: { key: string; frames: number; finalized: boolean; error: boolean } | null;
  history: Array<{
    at: number;
    api: string;
    content?: string;
    isFinalize?: boolean;
    params?: Record<string, string>;
  }>;
}

/** The sandbox's card QPS meter. */
export interface CardStats {
  limitQps: number;
  calls: number;
  qpsRejected: number;
  maxArrivalQps: number;
  maxAcceptedQps: number;
}

export async function startCardSandbox(): Promise<Sandbox> {
  return createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
}

/** Calls the sandbox control API. */
export async function control<T>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      'x-sandbox-client': 'test',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const cardOf = (sandbox: Sandbox, outTrackId: string) =>
  control<ControlCard>(sandbox, 'GET', `/sandbox/cards/${encodeURIComponent(outTrackId)}`);

export const cardStats = (sandbox: Sandbox) => control<CardStats>(sandbox, 'GET', '/sandbox/cards/stats');

export const setCardQpsLimit = (sandbox: Sandbox, qps: number) =>
  control(sandbox, 'PUT', '/sandbox/cards/qps-limit', { qps });

/** An OpenAPI client of the seed app against the sandbox (the pipeline's own limiter off: the pacer is under test). */
export function seedClient(sandbox: Sandbox): OpenApiClient {
  return createOpenApiClient({
    apiBase: sandbox.url,
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    logger: silentLogger(),
    rateLimit: false,
  });
}

/** Text in `n` chunks: "chunk 0 … chunk n-1", with Chinese and a newline now and then. */
export function chunks(n: number, tag = ''): string[] {
  return Array.from({ length: n }, (_, i) => `${tag}第${i}段 chunk ${i}${i % 5 === 4 ? '\n' : ' '}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
