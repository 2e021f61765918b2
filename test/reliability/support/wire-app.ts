/**
 * A sandbox and a real app (the example CRM's skills, two misbehaving skills, an event handler) connected
 * over a real Stream connection, with helpers to send what the platform sends (well-formed or not) and
 * read what the app answers. Used by the bad-input catalogue and the over-the-wire property tests.
 */
import { createSandbox, type DeliveryRecord, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, type RunningApp, type StreamEvent, startApp } from '@dingtalk-skills/sdk';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import { z } from 'zod';
import crm from '../../../examples/crm/app.js';
import { CaptureLogger, type LogEntry } from '../../../packages/sdk/test/support/capture-logger.js';
import { until } from '../../../packages/sdk/test/support/wait.js';

export const CLIENT_ID = SEED_APP.clientId;
export const CLIENT_SECRET = SEED_APP.clientSecret;
export const GRAPH = '/v1.0/graph/api/invoke';
export const PLUGIN = '/v1.0/agi/plugins/callback';
/** Deadline of the skill that never returns (the app answers 504 well before the platform's wait). */
export const HANG_TIMEOUT_MS = 300;
/** The HTTP receiver's shared secret (`app.skills.listenHttp()`), header `x-dingtalk-skills-secret`. */
export const HTTP_SECRET = 'wire-app-http-shared-secret';

/** Throws what it is told to: an Error (with a stack), a runtime TypeError, or values that are not Errors. */
const throwsNonError = defineSkill({
  operationId: 'throwsNonError',
  summary: 'Throws',
  description: 'Throws an Error, or a value that is not an Error.',
  path: '/v1/actions/test/throw',
  input: z.object({ what: z.enum(['error', 'typeError', 'string', 'object', 'undefined', 'number']) }),
  handler: async (input) => {
    if (input.what === 'error') throw new Error('the database password is hunter2');
    if (input.what === 'typeError') {
      const config = JSON.parse('{"db":null}') as { db: { password: string } };
      return { password: config.db.password };
    }
    const thrown: Record<string, unknown> = {
      string: 'the database password is hunter2',
      object: { secret: 'hunter2', nested: { deep: true } },
      undefined: undefined,
      number: 42,
    };
    throw thrown[input.what];
  },
});

/** Never settles. */
const neverReturns = defineSkill({
  operationId: 'neverReturns',
  summary: 'Never returns',
  description: 'A handler that never settles.',
  path: '/v1/actions/test/hang',
  input: z.object({}),
  timeoutMs: HANG_TIMEOUT_MS,
  handler: () => new Promise<never>(() => undefined),
});

/** A Graph response as the platform reads it. */
export interface GraphAnswer {
  status: number;
  reasonPhrase: string;
  headers: Record<string, string>;
  body: unknown;
  /** The CALLBACK frame's messageId (the request id when the request has no x-request-id). */
  messageId: string;
}

export interface WireApp {
  sandbox: Sandbox;
  app: RunningApp;
  logs: CaptureLogger;
  /** Event ids the app's handler ran for, in order. */
  handled: string[];
  connectionId(): string;
  /**
   * Sends `text` as one WebSocket message and waits until the app has read it (a SYSTEM ping sent after
   * it is answered: one socket, in order). Returns the delivery record: `ack` is set when the app answered.
   */
  sendRaw(text: string): Promise<DeliveryRecord>;
  /** Upstream messages the gateway could match to nothing (e.g. an ack for a numeric messageId). */
  unmatchedSince(seq: number): DeliveryRecord[];
  /** A CALLBACK on the Graph topic with `rawData` as its `data`, answered. */
  graphRaw(rawData: string): Promise<GraphAnswer>;
  /** A Graph API request as the platform builds it. */
  graph(method: string, uri: string, body?: unknown, headers?: Record<string, string>): Promise<GraphAnswer>;
  /** A CALLBACK with any data, answered: the response the app put in its ack. */
  callback(topic: string, rawData: string): Promise<unknown>;
  /** Pushes an EVENT and resolves once it is acked and handled: the app still works. */
  stillServing(): Promise<void>;
  /** Log entries written since `mark` (an index from `logMark()`). */
  logsSince(mark: number): LogEntry[];
  logMark(): number;
  close(): Promise<void>;
}

/** Starts the sandbox (frames up to 1 MiB, so it can send oversize ones) and the app. */
export async function startWireApp(options: { logLevel?: 'trace' | 'debug' } = {}): Promise<WireApp> {
  const logs = new CaptureLogger({ level: options.logLevel ?? 'debug', secrets: [CLIENT_SECRET] });
  const sandbox = await createSandbox({
    ephemeral: true,
    logger: logs.logger.child({ part: 'sandbox' }),
    pingIntervalMs: 0,
    maxFrameBytes: 1024 * 1024,
  });
  const handled: string[] = [];
  const definition = defineApp({
    name: 'wire app',
    skills: [...crm.skills, throwsNonError, neverReturns],
    onEvent: (event: StreamEvent) => {
      handled.push(event.id);
    },
  });
  const app = await startApp(definition, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sandbox.url,
    logger: logs.logger.child({ part: 'app' }),
    now: () => sandbox.context.clock.now(),
    skillTimeoutMs: 5_000,
    rateLimiter: new WindowRateLimiter({ qps: 10_000 }),
    // These tests check the warning of every malformed frame: no rate limit on them here.
    stream: { malformedFrameLog: { burst: 1_000_000 } },
    http: { sharedSecret: HTTP_SECRET },
  });
  await sandbox.gateway.waitForConnection({ clientId: CLIENT_ID }, 5_000);

  const connectionId = () => {
    const conn = sandbox.gateway.listConnections().find((c) => c.appId === CLIENT_ID && c.state === 'open');
    if (!conn) throw new Error('the app has no open connection');
    return conn.id;
  };

  const roundTrip = async (connId: string) => {
    const pingId = sandbox.gateway.ping(connId);
    await until(
      () => sandbox.gateway.deliveries().some((d) => d.messageId === pingId && d.outcome !== 'pending'),
      5_000,
      `the answer to ping ${pingId}`,
    );
    await new Promise<void>((r) => setImmediate(r));
  };

  const callbackResult = async (topic: string, rawData: string) => {
    const result = await sandbox.gateway.invokeCallback({
      clientId: CLIENT_ID,
      topic,
      rawData,
      timeoutMs: 5_000,
    });
    if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
    return result;
  };

  const toGraph = (result: Awaited<ReturnType<typeof callbackResult>>): GraphAnswer => {
    const r = result.response as {
      statusLine: { code: number; reasonPhrase: string };
      headers: Record<string, string>;
      body: string;
    };
    return {
      status: r.statusLine.code,
      reasonPhrase: r.statusLine.reasonPhrase,
      headers: r.headers,
      body: JSON.parse(r.body) as unknown,
      messageId: result.messageId,
    };
  };

  return {
    sandbox,
    app,
    logs,
    handled,
    connectionId,
    async sendRaw(text) {
      const connId = connectionId();
      const record = sandbox.gateway.sendRaw(connId, text);
      await roundTrip(connId);
      return record;
    },
    unmatchedSince(seq) {
      return sandbox.gateway.deliveries(seq).filter((d) => d.type === 'UPSTREAM');
    },
    async graphRaw(rawData) {
      return toGraph(await callbackResult(GRAPH, rawData));
    },
    async graph(method, uri, body, headers = {}) {
      const rawData = JSON.stringify({
        requestLine: { method, uri },
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? '' : JSON.stringify(body),
      });
      return toGraph(await callbackResult(GRAPH, rawData));
    },
    async callback(topic, rawData) {
      return (await callbackResult(topic, rawData)).response;
    },
    async stillServing() {
      const pushed = sandbox.gateway.pushEvent({ clientId: CLIENT_ID, eventType: 'still_serving', data: {} });
      const result = await pushed.done;
      if (result.status !== 'acked') throw new Error(`event not acked: ${JSON.stringify(result)}`);
      if (!handled.includes(pushed.eventId)) throw new Error('event acked but not handled');
    },
    logMark: () => logs.entries.length,
    logsSince: (mark) => logs.entries.slice(mark),
    async close() {
      await app.stop();
      await sandbox.close();
    },
  };
}
