import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { GraphResponse } from '../protocol/graph.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { isTimeoutMs, MAX_TIMEOUT_MS } from './deadlines.js';
import type { AnySkill } from './define-skill.js';
import { type AnswerStore, IdempotentAnswers } from './idempotency.js';
import type { SkillInvocation } from './invocation.js';
import type { Middleware } from './middleware.js';
import type { SkillObserver } from './observer.js';
import { SkillErrorCode, type SkillOutcome } from './outcome.js';
import type { AppApi, CredentialResolver, TokenSource, UserApi } from './ports.js';
import type { CallbackReceiver } from './receivers/callback-receiver.js';
import { graphReceiver } from './receivers/graph.js';
import {
  createHttpHandler,
  type HttpReceiverAuth,
  type HttpReceiverOptions,
  INSECURE_NO_AUTH,
} from './receivers/http.js';
import { pluginReceiver } from './receivers/plugin.js';
import { RouteTable } from './route-table.js';
import type { Finish } from './running-invocation.js';
import { type InvocationResult, SkillRunner } from './skill-runner.js';

/** The Stream receivers every skills app serves. */
const CALLBACK_RECEIVERS: readonly CallbackReceiver<unknown>[] = [graphReceiver, pluginReceiver];

/** Shortest shared secret the HTTP receiver accepts. */
const MIN_SECRET_LENGTH = 16;

/** A skill acts as the user when it declares scopes or receives an authorization code. */
function actsAsUser(skill: AnySkill): boolean {
  return skill.scopes.length > 0 || skill.context.includes('oauthAuthCode');
}

/** A raw CALLBACK as the Stream client hands it over. */
export interface CallbackLike {
  messageId: string;
  data: string;
}

/** The part of a Stream client the skills app needs (StreamClient satisfies it). */
export interface CallbackRegistry {
  onCallback(topic: string, handler: (msg: CallbackLike) => Promise<unknown>): unknown;
}

export interface SkillsAppOptions {
  skills: readonly AnySkill[];
  logger: Logger;
  /** Resolves the user's credential (plugin token, auth code, stored token). */
  credentials: CredentialResolver;
  /** Builds the OpenAPI-as-the-user facade for a token source. */
  userApiFor: (source: TokenSource) => UserApi;
  /** The OpenAPI as the app. */
  appApi: AppApi;
  /** Deadline for every handler unless the skill sets its own (default 8,000 ms: below the platform's wait). */
  skillTimeoutMs?: number;
  /** Runs around every handler, first outermost (the one way to add middleware; `defineApp({ middleware })` passes it). */
  middleware?: readonly Middleware[];
  /** Error boundary hook: return an outcome to answer with it, or undefined for the default 500. */
  onError?: (err: Error, invocation: SkillInvocation) => SkillOutcome | undefined;
  /** HTTP receiver options (authentication, body limit, timeouts). */
  http?: HttpReceiverOptions;
  /** Told how every invocation ended (e.g. the Prometheus `Metrics`). */
  observer?: SkillObserver;
  /**
   * Where `idempotent` skills remember their answers (default: this process's memory, made when the
   * first idempotent skill runs). Pass the shared state store so instances share them.
   */
  answerStore?: AnswerStore;
  /** Namespace of those answers in the store (default `app`; the runtime passes the clientId). */
  answerNamespace?: string;
}

/**
 * The skills app: one registry of skills served by every receiver (Stream Graph API, Stream legacy
 * AI plugin, HTTP). Transport-free: receivers turn what arrives into a SkillInvocation; the runner
 * routes, validates, resolves the user's credential and answers; the receiver renders the answer.
 */
export class SkillsApp {
  readonly skills: readonly AnySkill[];
  readonly #routes = new RouteTable();
  readonly #middleware: readonly Middleware[];
  readonly #options: SkillsAppOptions;
  #runnerInstance: SkillRunner | undefined;
  #answers: IdempotentAnswers | undefined;

  constructor(options: SkillsAppOptions) {
    if (options.skillTimeoutMs !== undefined && !isTimeoutMs(options.skillTimeoutMs))
      throw new DingTalkSkillsError(
        ErrorCode.Config,
        `skillTimeoutMs must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS} (got ${options.skillTimeoutMs})`,
      );
    this.#options = options;
    this.skills = options.skills;
    this.#middleware = [...(options.middleware ?? [])];
    for (const skill of options.skills) this.#routes.add(skill);
  }

  get #runner(): SkillRunner {
    this.#runnerInstance ??= new SkillRunner({
      routes: this.#routes,
      middleware: this.#middleware,
      logger: this.#options.logger,
      skillTimeoutMs: this.#options.skillTimeoutMs ?? 8_000,
      credentials: this.#options.credentials,
      userApiFor: this.#options.userApiFor,
      appApi: this.#options.appApi,
      onError: this.#options.onError,
      observer: this.#options.observer,
      answers: () => {
        this.#answers ??= new IdempotentAnswers(
          this.#options.answerStore ??
            new MemoryStateStore({ logger: this.#options.logger, maxEntries: 10_000 }),
          this.#options.answerNamespace ?? 'app',
          this.#options.logger,
        );
        return this.#answers;
      },
    });
    return this.#runnerInstance;
  }

  /** Runs one invocation to its outcome (never throws synchronously; a skill's failure is an outcome). */
  invoke(inv: SkillInvocation): Promise<InvocationResult> {
    return this.#runner.run(inv);
  }

  /**
   * Serves one CALLBACK on a receiver: decode, run, render. A request that cannot be decoded gets the
   * receiver's 400 and a warning; anything else a decoder throws is a bug and propagates (a rejection).
   * Not an async function (no frame of its own): the runner renders the answer itself (`finishOf`).
   * Never throws synchronously: every failure is a rejection.
   */
  #handle<Answer>(receiver: CallbackReceiver<Answer>, msg: CallbackLike): Promise<Answer> {
    let inv: SkillInvocation;
    try {
      inv = receiver.decode(msg.data, msg.messageId);
    } catch (err) {
      if (!(err instanceof ProtocolError)) return Promise.reject(err);
      try {
        this.#options.logger.warn(
          { messageId: msg.messageId, err: err.message },
          `malformed ${receiver.requestName}`,
        );
        return Promise.resolve(receiver.decodeFailure(err, msg.messageId));
      } catch (answerErr) {
        return Promise.reject(answerErr);
      }
    }
    return this.#runner.answer(inv, finishOf(receiver));
  }

  /** Answers the `data` of a `/v1.0/graph/api/invoke` CALLBACK with a Graph response. */
  handleGraph(msg: CallbackLike): Promise<GraphResponse> {
    return this.#handle(graphReceiver, msg);
  }

  /** Answers a legacy AI plugin CALLBACK with `{requestId, result}` or the failure structure. */
  handlePlugin(msg: CallbackLike): Promise<unknown> {
    return this.#handle(pluginReceiver, msg);
  }

  /** Registers every Stream receiver's topic (the Graph API, the legacy AI plugin) on a Stream client. */
  attach(client: CallbackRegistry): this {
    for (const receiver of CALLBACK_RECEIVERS)
      client.onCallback(receiver.topic, (msg) => this.#handle(receiver, msg));
    return this;
  }

  /**
   * How the HTTP receiver authenticates, decided on every start. Fails closed: a skill that acts as the
   * user is never served without authentication unless the app opted out explicitly (warned each time).
   * Without authentication, requests are not trusted: context parameters are ignored, no user credential.
   */
  #httpAuth(): HttpReceiverAuth {
    const options = this.#options.http ?? {};
    if (options.sharedSecret !== undefined) {
      if (options.sharedSecret.length < MIN_SECRET_LENGTH)
        throw new DingTalkSkillsError(
          ErrorCode.Config,
          `http.sharedSecret must be at least ${MIN_SECRET_LENGTH} characters`,
        );
      return { trusted: true };
    }
    if (options.auth === INSECURE_NO_AUTH) {
      this.#options.logger.warn(
        { auth: INSECURE_NO_AUTH },
        'HTTP receiver WITHOUT authentication: anyone who reaches the port can act as any user who authorized the app. Local testing only; set http.sharedSecret for a real deployment.',
      );
      return { trusted: true };
    }
    if (options.auth !== undefined)
      throw new DingTalkSkillsError(
        ErrorCode.Config,
        `http.auth must be "${INSECURE_NO_AUTH}" or absent (got ${JSON.stringify(options.auth)})`,
      );
    const asUser = this.skills.filter(actsAsUser).map((s) => s.operationId);
    if (asUser.length > 0)
      throw new DingTalkSkillsError(
        ErrorCode.Config,
        `the HTTP receiver needs authentication: ${asUser.join(', ')} act${asUser.length === 1 ? 's' : ''} as the user. Set http.sharedSecret (or, for local testing only, http.auth: '${INSECURE_NO_AUTH}')`,
      );
    return { trusted: false };
  }

  /**
   * A node:http handler serving the skills on their method + path. Throws ERR_CONFIG when a skill acts
   * as the user and the receiver has no authentication (see `http` in the options).
   */
  httpHandler(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void {
    const handle = createHttpHandler(
      async (inv) => (await this.invoke(inv)).outcome,
      this.#options.http,
      this.#httpAuth(),
    );
    return (req, res) => {
      handle(req, res).catch((thrown: unknown) => {
        this.#options.logger.error(
          { err: toError(thrown), url: req.url?.split('?')[0] },
          'HTTP receiver failed',
        );
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(
            JSON.stringify({ success: false, code: SkillErrorCode.InternalError, message: 'internal error' }),
          );
        } else res.destroy();
      });
    };
  }

  /**
   * Serves the skills over HTTP on host:port (default 127.0.0.1:0), with header, request and keep-alive
   * timeouts (`http.headersTimeoutMs` 10 s, `requestTimeoutMs` 30 s, `keepAliveTimeoutMs` 5 s).
   */
  async listenHttp(options: { port?: number; host?: string } = {}): Promise<{ server: Server; url: string }> {
    const http = this.#options.http ?? {};
    const headersTimeout = http.headersTimeoutMs ?? 10_000;
    const requestTimeout = Math.max(http.requestTimeoutMs ?? 30_000, headersTimeout);
    const server = createServer(
      {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout: http.keepAliveTimeoutMs ?? 5_000,
        // How often Node checks the two timeouts above (its default, 30 s, would make them late).
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2))),
      },
      this.httpHandler(),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return { server, url: `http://${addr.address}:${addr.port}` };
  }
}

/** Each receiver's answer from an outcome, made once per receiver rather than once per message. */
const FINISHES = new WeakMap<CallbackReceiver<unknown>, Finish<unknown>>();

function finishOf<Answer>(receiver: CallbackReceiver<Answer>): Finish<Answer> {
  let finish = FINISHES.get(receiver) as Finish<Answer> | undefined;
  if (finish === undefined) {
    finish = (outcome, inv) => receiver.render(outcome, inv.requestId);
    FINISHES.set(receiver, finish as Finish<unknown>);
  }
  return finish;
}
