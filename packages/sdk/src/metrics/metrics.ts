import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TokenCallResult, UserTokenObserver } from '../credentials/token-observer.js';
import type { OpenApiObserver } from '../openapi/observer.js';
import type { InvocationSource } from '../skills/invocation.js';
import type { SkillObserver } from '../skills/observer.js';
import type { SkillOutcome } from '../skills/outcome.js';
import type { StateFailureReason, StateStoreObserver } from '../state/guarded-state-store.js';
import type { StreamClient, StreamClientState } from '../stream/client.js';
import type { StreamMessageOutcome, StreamObserver } from '../stream/observer.js';
import type { SlotState } from '../stream/slot.js';
import { openApiCodeLabel } from './code-label.js';
import { HotCounter, HotHistogram } from './hot-series.js';

// prom-client (~12 MB of RSS) loads when the first Metrics is made, not when the SDK is imported.
const requireHere = createRequire(import.meta.url);
let promClient: typeof import('prom-client') | undefined;
function prom(): typeof import('prom-client') {
  promClient ??= requireHere('prom-client') as typeof import('prom-client');
  return promClient;
}

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /**
   * The registry to register into. Default: a new one, so several apps (or tests) in one process never
   * clash; the global `prom-client` registry is never touched unless passed here.
   */
  registry?: Registry;
  /** Put before every metric name of this module (default `dingtalk_`). */
  prefix?: string;
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC) into the registry (default true). */
  defaultMetrics?: boolean;
  /** Labels added to every series (e.g. `{ instance: 'a' }`). */
  labels?: Record<string, string>;
  /** Buckets of the latency histograms, in seconds. */
  buckets?: number[];
}

/** Latency buckets (seconds): a few ms (an ack) up to the 25 s handler deadline. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25];

const CLIENT_STATES: readonly StreamClientState[] = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'stopping',
  'stopped',
];
const SLOT_STATES: readonly SlotState[] = ['idle', 'connecting', 'connected', 'reconnecting', 'stopped'];

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/**
 * Bound prom-client children of a metric with two or three labels, made once per label values and kept
 * in nested maps, so the hot path builds no label objects or keys of its own.
 */
class Children<T> {
  readonly #root = new Map<string, Map<string, T | Map<string, T>>>();
  constructor(readonly make: (values: string[]) => T) {}

  get(a: string, b: string, c?: string): T {
    let level = this.#root.get(a);
    if (level === undefined) {
      level = new Map();
      this.#root.set(a, level);
    }
    if (c === undefined) {
      let child = level.get(b) as T | undefined;
      if (child === undefined) {
        child = this.make([a, b]);
        level.set(b, child);
      }
      return child;
    }
    let leaf = level.get(b) as Map<string, T> | undefined;
    if (leaf === undefined) {
      leaf = new Map();
      level.set(b, leaf);
    }
    let child = leaf.get(c);
    if (child === undefined) {
      child = this.make([a, b, c]);
      leaf.set(c, child);
    }
    return child;
  }
}

/**
 * Prometheus metrics of a running app, on its own prom-client `Registry`. It is the observer the
 * Stream client, the skills runner, the OpenAPI pipeline and the user-token manager report to: pass it
 * as `AppRuntimeConfig.metrics` (or wire the observers one by one), and serve {@link render} (e.g. with
 * `startOpsServer`). Only counters and histograms are touched per message; gauges are read from the
 * tracked Stream clients when scraped.
 *
 * Series (with the default prefix `dingtalk_`):
 *
 * | metric | labels | what |
 * |---|---|---|
 * | `stream_messages_total` | type, topic, outcome | messages answered (`success`, `later`, `failed`, `timeout`, `duplicate`, `in_progress`, `answered`, `not_found`) |
 * | `stream_handler_duration_seconds` | type, topic | receipt -> answer, for messages a handler ran for |
 * | `stream_in_flight` / `stream_queued` / `stream_abandoned_handlers` | | handlers running, messages waiting for a slot, handlers past their deadline still running |
 * | `stream_connections` | state | pool slots per state (`connected`, `reconnecting`, ...) |
 * | `stream_client_state` | state | 1 for the client's current state |
 * | `stream_reconnects_total` | | reconnect attempts scheduled |
 * | `stream_connect_errors_total` | code | failed connects (`ERR_CREDENTIALS`, `ERR_CONNECT`) |
 * | `stream_dedup_errors_total` | operation | dedup store failures (claim, complete, release, renew) |
 * | `stream_dedup_evictions_total` | | dedup marks the in-memory dedup store dropped before their TTL (it was full) |
 * | `state_store_errors_total` | operation, reason | shared state store calls that failed (`timeout`, `error`, `circuit_open`) |
 * | `state_store_up` | | 1 while the shared state store answers, 0 during an outage (circuit open) |
 * | `openapi_requests_total` | api, status, code | OpenAPI attempts by endpoint (`GET /v1.0/...`), HTTP status and code (known codes; any other is `other`) |
 * | `openapi_request_duration_seconds` | api | attempt durations |
 * | `user_token_refreshes_total` / `user_token_code_exchanges_total` | result | `ok`, `rejected` (the user must authorize), `error` |
 * | `skill_invocations_total` | skill, source, outcome | `ok`, `auth`, `error` |
 * | `skill_duration_seconds` | skill | invocation durations |
 * | `skill_authorization_answers_total` | skill, code | answers with the authorization-card structure |
 */
export class Metrics
  implements StreamObserver, OpenApiObserver, UserTokenObserver, SkillObserver, StateStoreObserver
{
  /** Where every series of this object lives. */
  readonly registry: Registry;
  readonly #clients = new Set<StreamClient>();
  readonly #messages: Children<Inc>;
  readonly #handlerSeconds: Children<Observe>;
  readonly #reconnects: Counter;
  readonly #connectErrors: Counter;
  readonly #dedupErrors: Counter;
  readonly #dedupEvictions: Counter;
  readonly #stateErrors: Counter;
  readonly #stateUp: Gauge;
  readonly #openapi: Children<Inc>;
  readonly #openapiSeconds = new Map<string, Observe>();
  readonly #openapiHistogram: Histogram;
  readonly #refreshes: Counter;
  readonly #exchanges: Counter;
  readonly #identityMismatches: Counter;
  readonly #skills: Children<Inc>;
  readonly #skillSeconds: Map<string, Observe> = new Map();
  readonly #skillHistogram: HotHistogram;
  readonly #authAnswers: Children<Inc>;
  readonly #botMessages: Counter;

  constructor(options: MetricsOptions = {}) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom();
    this.registry = options.registry ?? new Registry();
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const p = options.prefix ?? 'dingtalk_';
    const registers = [this.registry];
    const buckets = options.buckets ?? DEFAULT_BUCKETS;

    // The four series every message or invocation touches are HotCounter/HotHistogram (hot-series.ts).
    const messages = new HotCounter({
      name: `${p}stream_messages_total`,
      help: 'Stream messages answered, by frame type, topic (EVENT: *) and outcome.',
      labelNames: ['type', 'topic', 'outcome'],
      registers,
    });
    this.#messages = new Children((v) => messages.labels(...v));
    const handlerSeconds = new HotHistogram({
      name: `${p}stream_handler_duration_seconds`,
      help: 'Time from receipt of a Stream message to its answer, for messages a handler ran for.',
      labelNames: ['type', 'topic'],
      buckets,
      registers,
    });
    this.#handlerSeconds = new Children((v) => handlerSeconds.labels(...v));
    this.#gauges(p, registers);
    this.#reconnects = new Counter({
      name: `${p}stream_reconnects_total`,
      help: 'Reconnect attempts scheduled by the Stream client (after a close, a failure or a gateway disconnect).',
      registers,
    });
    this.#connectErrors = new Counter({
      name: `${p}stream_connect_errors_total`,
      help: 'Failed Stream connect attempts, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.#dedupErrors = new Counter({
      name: `${p}stream_dedup_errors_total`,
      help: 'EVENT dedup store failures, by operation (the client carried on without the store).',
      labelNames: ['operation'],
      registers,
    });
    this.#dedupEvictions = new Counter({
      name: `${p}stream_dedup_evictions_total`,
      help: 'EVENT dedup marks the in-memory dedup store dropped before their TTL because it was full (a redelivery of such an event runs again).',
      registers,
    });
    this.#stateErrors = new Counter({
      name: `${p}state_store_errors_total`,
      help: 'Shared state store calls that failed, by operation and reason (timeout, error, circuit_open).',
      labelNames: ['operation', 'reason'],
      registers,
    });
    this.#stateUp = new Gauge({
      name: `${p}state_store_up`,
      help: '1 while the shared state store answers, 0 while it does not (its circuit is open).',
      registers,
    });
    this.#stateUp.set(1);
    const openapi = new Counter({
      name: `${p}openapi_requests_total`,
      help: 'OpenAPI attempts, by endpoint (METHOD /path/template), HTTP status (0: no response) and code (OK, a known platform or transport code, Http<status>, else other).',
      labelNames: ['api', 'status', 'code'],
      registers,
    });
    this.#openapi = new Children((v) => openapi.labels(...v));
    this.#openapiHistogram = new Histogram({
      name: `${p}openapi_request_duration_seconds`,
      help: 'Duration of OpenAPI attempts, by endpoint.',
      labelNames: ['api'],
      buckets,
      registers,
    });
    this.#refreshes = new Counter({
      name: `${p}user_token_refreshes_total`,
      help: 'User token refreshes, by result (ok, rejected: the user must authorize again, error).',
      labelNames: ['result'],
      registers,
    });
    this.#exchanges = new Counter({
      name: `${p}user_token_code_exchanges_total`,
      help: 'Authorization code exchanges, by result (ok, rejected, error).',
      labelNames: ['result'],
      registers,
    });
    this.#identityMismatches = new Counter({
      name: `${p}security_identity_mismatches_total`,
      help: 'Credentials presented for one user that belonged to another, refused (authCode, accessToken).',
      labelNames: ['via'],
      registers,
    });
    const skills = new HotCounter({
      name: `${p}skill_invocations_total`,
      help: 'Skill invocations, by skill (operationId), source (graph, plugin, http) and outcome (ok, auth, error).',
      labelNames: ['skill', 'source', 'outcome'],
      registers,
    });
    this.#skills = new Children((v) => skills.labels(...v));
    this.#skillHistogram = new HotHistogram({
      name: `${p}skill_duration_seconds`,
      help: 'Duration of skill invocations, by skill.',
      labelNames: ['skill'],
      buckets,
      registers,
    });
    const authAnswers = new Counter({
      name: `${p}skill_authorization_answers_total`,
      help: 'Invocations answered with the authorization-card structure, by skill and code.',
      labelNames: ['skill', 'code'],
      registers,
    });
    this.#authAnswers = new Children((v) => authAnswers.labels(...v));
    const botMessages: Counter = new Counter({
      name: `${p}bot_messages_total`,
      help: 'Bot messages, by outcome (ok, error, timeout, duplicate, malformed, auth: the authorization card was sent).',
      labelNames: ['outcome'],
      registers,
    });
    this.#botMessages = botMessages;
  }

  /** The Prometheus text exposition of every series in {@link registry}. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Reads a Stream client's state, slots and load when scraped, and counts its reconnects and connect
   * errors. Returns a function that stops tracking it. (`AppRuntimeConfig.metrics` does this for the app's
   * client; the message counters come from the client's `observer` option.)
   */
  trackStream(client: StreamClient): () => void {
    const onReconnecting = () => this.#reconnects.inc();
    const onError = (err: { code: string }) => this.#connectErrors.labels(err.code).inc();
    client.on('reconnecting', onReconnecting);
    client.on('error', onError);
    this.#clients.add(client);
    return () => {
      client.off('reconnecting', onReconnecting);
      client.off('error', onError);
      this.#clients.delete(client);
    };
  }

  // ---- StreamObserver ------------------------------------------------------------------------------

  messageAnswered(
    type: 'EVENT' | 'CALLBACK',
    topic: string,
    outcome: StreamMessageOutcome,
    seconds: number | undefined,
  ): void {
    this.#messages.get(type, topic, outcome).inc();
    if (seconds !== undefined) this.#handlerSeconds.get(type, topic).observe(seconds);
  }

  dedupFailed(operation: 'claim' | 'complete' | 'release' | 'renew'): void {
    this.#dedupErrors.labels(operation).inc();
  }

  dedupEvicted(count: number): void {
    this.#dedupEvictions.inc(count);
  }

  // ---- StateStoreObserver --------------------------------------------------------------------------

  stateStoreFailed(operation: string, reason: StateFailureReason): void {
    this.#stateErrors.labels(operation, reason).inc();
  }

  stateStoreHealth(healthy: boolean): void {
    this.#stateUp.set(healthy ? 1 : 0);
  }

  // ---- OpenApiObserver -----------------------------------------------------------------------------

  callCompleted(api: string, status: number, code: string, seconds: number): void {
    this.#openapi.get(api, statusText(status), openApiCodeLabel(code)).inc();
    bound(this.#openapiSeconds, api, this.#openapiHistogram).observe(seconds);
  }

  // ---- UserTokenObserver ---------------------------------------------------------------------------

  tokenRefreshed(result: TokenCallResult): void {
    this.#refreshes.labels(result).inc();
  }

  codeExchanged(result: TokenCallResult): void {
    this.#exchanges.labels(result).inc();
  }

  identityMismatch(via: 'authCode' | 'accessToken'): void {
    this.#identityMismatches.labels(via).inc();
  }

  // ---- SkillObserver -------------------------------------------------------------------------------

  invocationFinished(skill: string, source: InvocationSource, outcome: SkillOutcome, seconds: number): void {
    this.#skills.get(skill, source, outcome.kind).inc();
    bound(this.#skillSeconds, skill, this.#skillHistogram).observe(seconds);
    if (outcome.kind === 'auth') this.#authAnswers.get(skill, outcome.code).inc();
  }

  // ---- BotObserver ---------------------------------------------------------------------------------

  botMessageFinished(outcome: string, _seconds: number): void {
    this.#botMessages.labels(outcome).inc();
  }

  // ---- gauges read at scrape time ------------------------------------------------------------------

  #gauges(p: string, registers: Registry[]): void {
    const { Gauge } = prom();
    const clients = this.#clients;
    const load = (pick: (s: ReturnType<StreamClient['status']>) => number) =>
      function collect(this: Gauge) {
        let total = 0;
        for (const c of clients) total += pick(c.status());
        this.set(total);
      };
    new Gauge({
      name: `${p}stream_in_flight`,
      help: 'Stream handlers running now.',
      registers,
      collect: load((s) => s.inFlight),
    });
    new Gauge({
      name: `${p}stream_queued`,
      help: 'Stream messages read and waiting for a free handler slot.',
      registers,
      collect: load((s) => s.queued),
    });
    new Gauge({
      name: `${p}stream_abandoned_handlers`,
      help: 'Stream handlers past their deadline (already answered) that are still running.',
      registers,
      collect: load((s) => s.abandoned),
    });
    new Gauge({
      name: `${p}stream_connections`,
      help: 'Stream connection pool slots, by state (connected: a socket is open and registered).',
      labelNames: ['state'],
      registers,
      collect(this: Gauge) {
        const counts = new Map<string, number>(SLOT_STATES.map((s) => [s, 0]));
        for (const c of clients)
          for (const slot of c.status().connections)
            counts.set(slot.state, (counts.get(slot.state) ?? 0) + 1);
        for (const [state, n] of counts) this.labels(state).set(n);
      },
    });
    new Gauge({
      name: `${p}stream_client_state`,
      help: "1 for the Stream client's current state (summed over tracked clients).",
      labelNames: ['state'],
      registers,
      collect(this: Gauge) {
        const counts = new Map<string, number>(CLIENT_STATES.map((s) => [s, 0]));
        for (const c of clients) {
          const state = c.status().state;
          counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.labels(state).set(n);
      },
    });
  }
}

/** The child of a one-label histogram for `value`, made once. */
function bound(
  cache: Map<string, Observe>,
  value: string,
  histogram: { labels(value: string): Observe },
): Observe {
  let child = cache.get(value);
  if (child === undefined) {
    child = histogram.labels(value);
    cache.set(value, child);
  }
  return child;
}

/** Status label text; small integers are cached to keep the hot path free of number formatting. */
const STATUS_TEXT: string[] = Array.from({ length: 600 }, (_, i) => String(i));
function statusText(status: number): string {
  return STATUS_TEXT[status] ?? String(status);
}
