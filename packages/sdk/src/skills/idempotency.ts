import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/state-store.js';
import type { SkillInvocation } from './invocation.js';
import type { SkillOutcome } from './outcome.js';

/** How long an idempotent skill's answer is remembered unless the skill says otherwise (5 minutes). */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 300_000;

/** What `IdempotentAnswers` needs from a state store (every StateStore has it). */
export type AnswerStore = Pick<StateStore, 'get' | 'setIfAbsent' | 'compareAndSwap' | 'delete'>;

function sortedQuery(query: Record<string, string | string[]>): string {
  return JSON.stringify(
    Object.keys(query)
      .sort()
      .map((k) => [k, query[k]]),
  );
}

/**
 * The request id the platform keeps across a redelivery: the Graph request's `x-request-id` /
 * `x-acs-request-id` header, the legacy plugin's `requestId`, an HTTP caller's `idempotency-key` or
 * `x-request-id`. Never the frame's messageId: a redelivery gets a new one.
 */
function stableRequestId(inv: SkillInvocation): string {
  const h = inv.headers;
  switch (inv.source) {
    case 'plugin':
      return inv.requestId;
    case 'graph':
      return h['x-request-id'] || h['x-acs-request-id'] || '';
    case 'http':
    case 'mcp':
      return h['idempotency-key'] || h['x-request-id'] || '';
  }
}

/** Who a handed-over token belongs to, as far as the key needs: a hash of the token (never the token). */
function credentialOwnerOf(inv: SkillInvocation): string {
  return inv.accessToken === undefined ? '' : createHash('sha256').update(inv.accessToken).digest('hex');
}

/**
 * The invocation key: a hash of what a redelivered CALLBACK keeps (DingTalk sends the same `data`
 * again under a new messageId): source, ability key, method, path, query (context parameters such as
 * the user included), body, the platform's request id when it sends one, and a hash of a handed-over
 * access token (taken out of the body before): a call whose user comes only from its token (the legacy
 * plugin, a body `accessToken`) must never be answered with another user's remembered answer, and a
 * redelivery carries the same token. 32 hex characters.
 *
 * Two identical requests with no request id (the same user asking the same thing twice) get the same
 * key too: an idempotency window should be no longer than redeliveries need.
 */
export function invocationKeyOf(inv: SkillInvocation): string {
  return createHash('sha256')
    .update(
      [
        inv.source,
        inv.abilityKey ?? '',
        inv.method ?? '',
        inv.path ?? '',
        sortedQuery(inv.query),
        JSON.stringify(inv.body),
        stableRequestId(inv),
        credentialOwnerOf(inv),
      ].join('\u0000'),
    )
    .digest('hex')
    .slice(0, 32);
}

const RUNNING = 'r:';
const DONE = 'd:';
const POLL_MS = 100;

/** How one idempotent invocation is run: its key, how long the answer is kept, how long a duplicate waits. */
export interface IdempotentRun {
  operationId: string;
  key: string;
  windowMs: number;
  /** How long the first run may take (its deadline): a duplicate waits this long for its answer. */
  runMs: number;
  requestId: string;
}

/**
 * Runs an idempotent skill at most once per invocation key within its window, across processes when
 * the store is shared (SQLite, Redis). The first delivery claims the key (`r:<owner>`, leased for the
 * run's deadline) and runs; an `ok` answer is stored (`d:<outcome>`, kept `windowMs`), any other answer
 * (authorization card, error, timeout) releases the key so a redelivery runs again. A duplicate that
 * finds the answer returns it without running; one that finds the key running waits for the answer
 * (polling, bounded by the run's deadline), then answers 409 `InvocationInProgress`. When the store
 * fails, the skill runs anyway (logged): a store outage must not stop the app.
 */
export class IdempotentAnswers {
  readonly #store: AnswerStore;
  readonly #namespace: string;
  readonly #logger: Logger;

  constructor(store: AnswerStore, namespace: string, logger: Logger) {
    this.#store = store;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  async run(r: IdempotentRun, execute: () => Promise<SkillOutcome>): Promise<SkillOutcome> {
    const k = `answers:${this.#namespace}:${r.operationId}:${r.key}`;
    const owner = RUNNING + randomUUID();
    const log = { requestId: r.requestId, skill: r.operationId, invocationKey: r.key };
    const waitUntil = Date.now() + r.runMs;
    try {
      for (;;) {
        if (await this.#store.setIfAbsent(k, owner, r.runMs + 5_000)) break;
        const current = await this.#store.get(k);
        if (current?.startsWith(DONE)) {
          this.#logger.info(log, 'duplicate invocation (redelivery): answered with the remembered result');
          return JSON.parse(current.slice(DONE.length)) as SkillOutcome;
        }
        if (Date.now() >= waitUntil) {
          this.#logger.warn(log, 'duplicate invocation while the first one still runs: answering 409');
          return {
            kind: 'error',
            status: 409,
            code: 'InvocationInProgress',
            message: 'the same invocation is still running',
          };
        }
        await sleep(POLL_MS);
      }
    } catch (err) {
      this.#logger.warn({ ...log, err: toError(err) }, 'idempotency store failed: running without dedup');
      return execute();
    }
    let outcome: SkillOutcome;
    try {
      outcome = await execute();
    } catch (err) {
      await this.#release(k, owner, log);
      throw err;
    }
    if (outcome.kind !== 'ok') {
      await this.#release(k, owner, log);
      return outcome;
    }
    try {
      const value = DONE + JSON.stringify(outcome);
      if (!(await this.#store.compareAndSwap(k, owner, value, r.windowMs)))
        await this.#store.setIfAbsent(k, value, r.windowMs);
    } catch (err) {
      this.#logger.warn({ ...log, err: toError(err) }, 'idempotency store failed: answer not remembered');
    }
    return outcome;
  }

  async #release(k: string, owner: string, log: Record<string, unknown>): Promise<void> {
    try {
      await this.#store.compareAndSwap(k, owner, null);
    } catch (err) {
      this.#logger.warn({ ...log, err: toError(err) }, 'idempotency store failed: claim not released');
    }
  }
}
