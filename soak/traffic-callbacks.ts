/**
 * CALLBACK traffic: the platform's side of the example CRM's skills. Graph API requests
 * (`/v1.0/graph/api/invoke`, the assistant's context parameters in the query) and legacy AI plugin
 * requests (`/v1.0/agi/plugins/callback`, the user's token in `data.accessToken`). It plays the
 * assistant: an authorization card is answered by a (headless) consent and one re-run with the fresh
 * `oauthAuthCode`; a callback that got no answer (connection lost, ack withheld, no live connection) is
 * sent again, like a user pressing the button again, for up to a minute. Every answer is checked
 * against the answers the framework defines, and for stack traces.
 */
import type { CallbackResult, Sandbox } from '@dingtalk-skills/sandbox';
import type { Random } from './random.js';

const GRAPH = '/v1.0/graph/api/invoke';
const PLUGIN = '/v1.0/agi/plugins/callback';
/** Every scope the example CRM's skills declare, plus `openid` (login). */
export const CRM_SCOPES = [
  'openid',
  'Contact.User.Read',
  'Todo.PersonalTodo.Write',
  'Todo.Todo.Read',
  'Calendar.Event.Read',
  'Contact.User.Ownness.Write',
] as const;
const AUTH_CODES = new Set(['InvalidAuthentication', 'Forbidden.AccessDenied.AccessTokenPermissionDenied']);
/** Error answers the framework defines for failures a skill cannot help (OpenAPI down, too slow). */
const DEFINED_ERRORS = new Map<number, string>([
  [500, 'InternalError'],
  [504, 'HandlerTimeout'],
]);
const STACK_TRACE = /\bat [^\s()]+ \(|[\w/.-]+\.(?:ts|js|mjs):\d+:\d+|node:internal\//;
/** A call without an answer is sent again (100 ms doubling to 2 s apart) for up to this long. */
const RESEND_FOR_MS = 60_000;

/** One kind of call the soak makes. */
interface Action {
  name: string;
  topic: 'graph' | 'plugin';
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: (n: number, userId: string) => Record<string, unknown>;
}

const ACTIONS: readonly Action[] = [
  { name: 'whoami', topic: 'graph', method: 'GET', path: '/v1/actions/crm/me' },
  {
    name: 'listMyTodos',
    topic: 'graph',
    method: 'GET',
    path: '/v1/actions/crm/todos',
    query: { isDone: 'false' },
  },
  {
    name: 'listMyEvents',
    topic: 'graph',
    method: 'GET',
    path: '/v1/actions/crm/events',
    query: { days: '7' },
  },
  {
    name: 'createTodo',
    topic: 'graph',
    method: 'POST',
    path: '/v1/actions/crm/todos',
    body: (n) => ({ subject: `soak to-do ${n}`, description: '混沌测试 chaos soak' }),
  },
  {
    name: 'setMyStatus',
    topic: 'graph',
    method: 'POST',
    path: '/v1/actions/crm/status',
    body: (n) => ({ kind: n % 2 === 0 ? 'trip' : 'leave', hours: 1 + (n % 8) }),
  },
  {
    name: 'addCustomer',
    topic: 'graph',
    method: 'POST',
    path: '/v1/actions/crm/customers',
    body: (n, userId) => ({ customName: `客户 Customer ${n}`, owner: userId, ambition: '高' }),
  },
  {
    name: 'addCustomer (plugin)',
    topic: 'plugin',
    method: 'POST',
    path: '',
    body: (n, userId) => ({ customName: `插件客户 ${n}`, owner: userId, ambition: '中' }),
  },
];

/** Counters of the CALLBACK traffic. */
export interface CallbackTrafficStats {
  /** Calls the soak made (one per skill invocation the assistant would run). */
  calls: number;
  /** CALLBACK frames sent: calls, re-runs after consent, and resends of unanswered ones. */
  framesSent: number;
  /** Frames that came back with an answer. */
  answered: number;
  /** Calls whose final answer was the skill's result. */
  ok: number;
  /** Authorization cards (answered by consent and a re-run). */
  authorizationCards: number;
  /** Final answers that are defined errors (500 InternalError, 504 HandlerTimeout), by status. */
  errorAnswers: Record<string, number>;
  /** Frames without an answer, by reason (each was sent again). */
  unanswered: Record<string, number>;
  resends: number;
  /** Calls still without an answer after every resend. */
  lost: number;
  /** Answers outside what the framework defines. */
  unexpected: number;
  /** Answers that carried something that looks like a stack trace. */
  stackTraces: number;
  /** Final answers by skill and kind, e.g. `whoami ok`. */
  bySkill: Record<string, number>;
}

export interface CallbackTrafficOptions {
  sandbox: Sandbox;
  clientId: string;
  users: readonly { userId: string; unionId: string; corpId: string }[];
  random: Random;
  /** How long the platform waits for an answer. */
  timeoutMs: number;
}

type Verdict =
  | { kind: 'ok' }
  | { kind: 'card' }
  | { kind: 'error'; status: number }
  | { kind: 'unexpected'; detail: string };

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** Runs calls as the platform and the assistant would, and checks every answer. */
export class CallbackTraffic {
  readonly stats: CallbackTrafficStats = {
    calls: 0,
    framesSent: 0,
    answered: 0,
    ok: 0,
    authorizationCards: 0,
    errorAnswers: {},
    unanswered: {},
    resends: 0,
    lost: 0,
    unexpected: 0,
    stackTraces: 0,
    bySkill: {},
  };
  /** The first few unexpected answers, for the report. */
  readonly samples: string[] = [];
  readonly #o: CallbackTrafficOptions;
  #n = 0;

  constructor(options: CallbackTrafficOptions) {
    this.#o = options;
  }

  /** One call of a random action for a random user, to its final answer. Never rejects. */
  async call(): Promise<void> {
    const n = ++this.#n;
    const action = this.#o.random.pick(ACTIONS);
    const user = this.#o.users[n % this.#o.users.length]!;
    this.stats.calls++;
    try {
      await this.#run(action, user, n);
    } catch (err) {
      this.stats.unexpected++;
      this.#sample(
        `${action.name}: the soak's call failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  async #run(action: Action, user: CallbackTrafficOptions['users'][number], n: number): Promise<void> {
    let authCode: string | undefined;
    for (let rerun = 0; rerun < 2; rerun++) {
      const response = await this.#answered(action, user, n, authCode);
      if (response === undefined) {
        this.stats.lost++;
        bump(this.stats.bySkill, `${action.name} lost`);
        return;
      }
      const verdict = this.#judge(action, response);
      if (verdict.kind === 'card' && rerun === 0) {
        this.stats.authorizationCards++;
        // The user consents (headless, as on the consent page) and the assistant runs it once more.
        authCode = this.#consent(user.userId);
        continue;
      }
      if (verdict.kind === 'ok') this.stats.ok++;
      else if (verdict.kind === 'error') bump(this.stats.errorAnswers, String(verdict.status));
      else {
        this.stats.unexpected++;
        this.#sample(
          `${action.name}: ${verdict.kind === 'card' ? 'authorization card again right after consent' : verdict.detail}`,
        );
      }
      bump(this.stats.bySkill, `${action.name} ${verdict.kind}`);
      return;
    }
  }

  /** Sends the call until it is answered (or RESEND_FOR_MS passed); the answer's response. */
  async #answered(
    action: Action,
    user: CallbackTrafficOptions['users'][number],
    n: number,
    authCode: string | undefined,
  ): Promise<unknown> {
    const giveUpAt = Date.now() + RESEND_FOR_MS;
    for (let attempt = 0; attempt === 0 || Date.now() < giveUpAt; attempt++) {
      if (attempt > 0) {
        this.stats.resends++;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      }
      const result = await this.#send(action, user, n, authCode);
      if (result.status !== 'error' || result.code !== 'noSubscriber') this.stats.framesSent++;
      if (result.status === 'answered') {
        this.stats.answered++;
        return result.response;
      }
      bump(this.stats.unanswered, result.status === 'timeout' ? 'timeout' : result.code);
    }
    return undefined;
  }

  #send(
    action: Action,
    user: CallbackTrafficOptions['users'][number],
    n: number,
    authCode: string | undefined,
  ): Promise<CallbackResult> {
    const { gateway } = this.#o.sandbox;
    const body = action.body?.(n, user.userId);
    if (action.topic === 'plugin') {
      return gateway.invokeCallback({
        clientId: this.#o.clientId,
        topic: PLUGIN,
        timeoutMs: this.#o.timeoutMs,
        data: {
          abilityKey: 'addCustomer',
          pluginId: 'soak-plugin',
          pluginVersion: '1.0.0',
          requestId: `soak-${n}`,
          data: { ...body, accessToken: this.#pluginToken(user.userId) },
        },
      });
    }
    const query = new URLSearchParams({
      ...action.query,
      userId: user.userId,
      unionId: user.unionId,
      corpId: user.corpId,
      ...(authCode === undefined ? {} : { oauthAuthCode: authCode }),
    });
    return gateway.invokeCallback({
      clientId: this.#o.clientId,
      topic: GRAPH,
      timeoutMs: this.#o.timeoutMs,
      data: {
        requestLine: { method: action.method, uri: `${action.path}?${query}` },
        headers: { 'content-type': 'application/json', 'x-request-id': `soak-${n}` },
        body: body === undefined ? '' : JSON.stringify(body),
      },
    });
  }

  /** Decides whether an answer is one the framework defines. */
  #judge(action: Action, response: unknown): Verdict {
    const text = JSON.stringify(response);
    if (STACK_TRACE.test(text)) {
      this.stats.stackTraces++;
      return { kind: 'unexpected', detail: `stack trace in the answer: ${text.slice(0, 300)}` };
    }
    if (action.topic === 'plugin') {
      const r = response as Record<string, unknown> | null;
      if (r && typeof r === 'object' && 'result' in r && r.requestId !== undefined) return { kind: 'ok' };
      if (r && r.success === false && typeof r.code === 'string') {
        if (AUTH_CODES.has(r.code)) return { kind: 'card' };
        if ([...DEFINED_ERRORS.values()].includes(r.code))
          return { kind: 'error', status: r.code === 'HandlerTimeout' ? 504 : 500 };
      }
      return { kind: 'unexpected', detail: `plugin answer ${text.slice(0, 300)}` };
    }
    const graph = response as { statusLine?: { code?: unknown }; body?: unknown } | null;
    const status = graph?.statusLine?.code;
    if (typeof status !== 'number' || typeof graph?.body !== 'string')
      return { kind: 'unexpected', detail: `not a Graph response: ${text.slice(0, 300)}` };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(graph.body) as Record<string, unknown>;
    } catch {
      return { kind: 'unexpected', detail: `Graph body is not JSON: ${graph.body.slice(0, 200)}` };
    }
    if (status === 200) return { kind: 'ok' };
    if ((status === 400 || status === 403) && typeof body.code === 'string' && AUTH_CODES.has(body.code))
      return { kind: 'card' };
    if (DEFINED_ERRORS.get(status) === body.code && body.success === false) return { kind: 'error', status };
    return { kind: 'unexpected', detail: `${action.name} answered ${status} ${graph.body.slice(0, 300)}` };
  }

  #consent(userId: string): string {
    return this.#o.sandbox.platform.authorize({ userId, clientId: this.#o.clientId, scopes: [...CRM_SCOPES] })
      .code;
  }

  /** The user's current token, as the platform puts it in each legacy plugin request ('' without a grant). */
  #pluginToken(userId: string): string {
    try {
      return this.#o.sandbox.platform.issueUserTokens(userId, this.#o.clientId).accessToken;
    } catch {
      // No grant yet: the plugin gets no token and answers with the authorization card.
      return '';
    }
  }

  #sample(line: string): void {
    if (this.samples.length < 10) this.samples.push(line);
  }
}
