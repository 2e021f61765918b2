/**
 * The app under soak, as its own process: the example CRM app (`examples/crm/app.ts`, every skill) plus
 * an event handler that writes each EVENT into the soak's in-memory ledger, connected to the sandbox over a real
 * Stream connection. It reports to the parent over IPC: the event ids it handled, its link going up and
 * down, its memory after GC, counters. It has no error handler of its own: an uncaught exception or an
 * unhandled rejection kills it, and the parent counts that as a crash.
 */
import {
  type AppRuntimeConfig,
  createAppRuntime,
  createLogger,
  createSharedState,
  defineApp,
  type Middleware,
  type StreamEvent,
} from '@dingtalk-skills/sdk';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import crm from '../examples/crm/app.js';
import type { AppProcessConfig, FromApp, ToApp } from './ipc.js';

const config = JSON.parse(process.env.SOAK_APP_CONFIG ?? '{}') as AppProcessConfig;

function send(message: FromApp): void {
  process.send?.(message);
}

process.on('uncaughtExceptionMonitor', (err) => {
  send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});

/**
 * Every handled event id goes to the ledger, which lives in the soak process (over IPC, batched per
 * event-loop turn): the app's RSS then measures the app, not a ledger growing by one entry per event.
 */
let unsent: string[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  if (unsent.length === 0) return;
  send({ type: 'handled', eventIds: unsent });
  unsent = [];
}

async function onEvent(event: StreamEvent): Promise<void> {
  // Some handlers take a little while (a database write, say), so acks do not all come back in order.
  if (event.id.charCodeAt(event.id.length - 1) % 8 === 0) await new Promise((r) => setTimeout(r, 3));
  unsent.push(event.id);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

let callbacksHandled = 0;
const countInvocations: Middleware = async (_state, next) => {
  callbacksHandled++;
  await next();
};

const app = defineApp({
  ...crm,
  middleware: [countInvocations, ...(crm.middleware ?? [])],
  onEvent,
});

const logger = createLogger({
  level: config.logLevel,
  name: 'soak-app',
  secrets: [config.clientSecret],
  destination: process.stderr,
});

// `default`: what startApp builds by itself (in-memory dedup of 10 000 ids, in-memory encrypted
// tokens). A URL: the shared state the CLI builds from DINGTALK_STATE (memory:, sqlite:, redis://).
const shared =
  config.state === 'default'
    ? undefined
    : await createSharedState({
        url: config.state,
        logger,
        clientId: config.clientId,
        // A fixed key, so tokens in a persistent store stay readable after a restart.
        tokenKeys: '5a'.repeat(32),
      });
const runtimeConfig: AppRuntimeConfig = {
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  apiBase: config.apiBase,
  logger,
  ...(shared
    ? { tokenStore: shared.tokenStore, dedupStore: shared.dedupStore, refreshLock: shared.refreshLock }
    : {}),
  rateLimiter: new WindowRateLimiter({ qps: config.appQps }),
  skillTimeoutMs: config.skillTimeoutMs,
  stream: { connections: config.connections },
};
const runtime = createAppRuntime(app, runtimeConfig);
const stream = runtime.stream;

let up = false;
let connects = 0;
let connectErrors = 0;
/** Reports every new connection, and every change between "a live connection" and "none". */
function linkChanged(reason: string): void {
  const now = stream.status().state === 'connected';
  if (now === up && reason !== 'connected') return;
  up = now;
  send({ type: 'link', up, at: Date.now(), reason });
}
stream.on('connected', () => {
  connects++;
  linkChanged('connected');
});
stream.on('disconnected', (info) => linkChanged(`disconnected ${info.code}`));
stream.on('reconnecting', (info) => linkChanged(`reconnecting: ${info.reason}`));
stream.on('error', () => {
  connectErrors++;
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  flush();
  await stream.stop();
  await runtime.openapi.close();
  await shared?.close();
  process.disconnect?.();
}

/**
 * Full GCs with pauses between them (V8 gives freed pages back to the system a little after a GC), then
 * the lowest RSS seen: one reading right after a GC can still count pages about to be released.
 */
async function settledMemory(): Promise<FromApp> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let rss = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
    rss = Math.min(rss, process.memoryUsage.rss());
  }
  return { type: 'memory', rss, heapUsed: process.memoryUsage().heapUsed, gc: gc !== undefined };
}

process.on('message', (raw: unknown) => {
  const message = raw as ToApp;
  if (message.type === 'measure') {
    flush();
    void settledMemory().then(send);
  } else if (message.type === 'counters') {
    flush();
    send({ type: 'counters', callbacksHandled, connects, connectErrors });
  } else if (message.type === 'stop') {
    void stop();
  }
});
// The parent went away: stop too (never outlive the soak).
process.on('disconnect', () => {
  void stop();
});

await stream.start();
send({ type: 'ready', pid: process.pid });
