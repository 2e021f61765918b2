import { randomBytes, randomUUID } from 'node:crypto';
import { AuthFailureCode, type Logger, readAuthFailure, toError } from '@dingtalk-skills/sdk';
import type { LegacyPluginRef } from '../callers/plugin.js';
import { AssistantError, AssistantErrorCode } from '../errors.js';
import type { AssistantUser, AuthorizationPort, Directory, SkillCaller, SkillCallResult } from '../ports.js';
import type { FoundAction, RegisteredSkills, SkillRegistry } from '../registry.js';
import type { SessionReply } from '../session-webhook/reply.js';
import type { SessionWebhooks } from '../session-webhook/store.js';
import { parseSkillsYaml } from '../spec/parse.js';
import { type CommandCandidate, parseCommand } from './command.js';
import { ConversationStore } from './conversations.js';
import { checkParams } from './params.js';
import { buildRequest } from './request.js';
import type {
  AuthCardStep,
  Conversation,
  ErrorStepCode,
  InvocationStatus,
  InvocationSummary,
  TranscriptStep,
} from './transcript.js';

/** What the assistant is built from (see `ports.ts`; `wiring.ts` supplies the real ones). */
export interface AssistantDeps {
  registry: SkillRegistry;
  directory: Directory;
  authorization: AuthorizationPort;
  caller: SkillCaller;
  /** The sandbox clock (`at` of every step, consent expiry). */
  clock: { now(): number };
  logger: Logger;
  /** Absolute URL of the assistant's OAuth callback (`<sandbox>/sandbox/assistant/oauth2`). */
  callbackUrl: () => string;
  /** How long an authorization card waits for the user's decision (default 10 minutes). */
  consentTtlMs?: number;
  /** Conversations kept in memory (default 500, oldest dropped). */
  maxConversations?: number;
  /** Issues the `sessionWebhook` of each skill call (none: the parameter has no value). */
  sessionWebhooks?: SessionWebhooks;
}

/** Input of {@link Assistant.invoke}. */
export interface InvokeInput {
  /** The app (default: the default app, else the only app with that operationId). */
  clientId?: string;
  operationId: string;
  userId: string;
  /** The user's input, by parameter name; strings are converted to the declared types. */
  params?: Record<string, unknown>;
  /** Continue this conversation (must be the same user's); default: a new one. */
  conversationId?: string;
  /** Consent headlessly when a card appears (tests, CLI `--auto-consent`). */
  autoConsent?: boolean;
  /** The plain-text command this invocation came from (set by `say`). */
  text?: string;
}

/** Input of {@link Assistant.say}. */
export interface SayInput {
  userId: string;
  text: string;
  clientId?: string;
  conversationId?: string;
  autoConsent?: boolean;
}

/** What an invocation came to (so far). */
export interface InvokeOutcome {
  conversationId: string;
  invocationId: string;
  /** `awaiting_consent`: an authorization card waits; open `consentUrl` to decide. */
  status: InvocationStatus;
  /** This invocation's steps. */
  transcript: TranscriptStep[];
  consentUrl?: string;
}

/** The OAuth redirect the assistant's callback received. */
export interface ConsentCallback {
  state: string;
  /** `authCode ?? code` on approval. */
  code?: string;
  /** OAuth error (e.g. `access_denied`) on refusal. */
  error?: string;
}

interface Run {
  id: string;
  conversation: Conversation;
  summary: InvocationSummary;
  found: FoundAction;
  user: AssistantUser;
  appName: string;
  values: Record<string, unknown>;
  text: string | undefined;
  autoConsent: boolean;
  consentUrl?: string;
}

interface PendingConsent {
  run: Run;
  scopes: string[];
  expiresAt: number;
}

type StepInput = TranscriptStep extends infer S
  ? S extends TranscriptStep
    ? Omit<S, 'at' | 'invocationId'>
    : never
  : never;

const DEFAULT_CONSENT_TTL_MS = 10 * 60 * 1000;

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** `requiredScopes` a skill may pass along (`requiredScopes` or the OpenAPI's `accessdenieddetail`). */
function requiredScopesOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as Record<string, unknown>;
  const detail = b.accessdenieddetail as Record<string, unknown> | undefined;
  const list = b.requiredScopes ?? detail?.requiredScopes;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string' && s !== '') : [];
}

const FAILURE_STEP: Record<string, ErrorStepCode> = {
  noSubscriber: 'skillUnavailable',
  unknownApp: 'skillUnavailable',
  connectionNotOpen: 'skillUnavailable',
  timeout: 'skillTimeout',
  badResponse: 'badResponse',
  malformedAck: 'badResponse',
};

/**
 * The sandbox's AI assistant (DingTalk's "baymax"): runs an app's actions for a user, shows the
 * authorization card when the user has not granted what an action needs (platform-triggered) or when
 * the skill answers DingTalk's authorization structure (skill-triggered), and after consent runs the
 * skill again, once, with a fresh `oauthAuthCode`. Every invocation keeps a transcript.
 */
export class Assistant {
  readonly registry: SkillRegistry;
  readonly #deps: AssistantDeps;
  readonly #store: ConversationStore;
  readonly #pending = new Map<string, PendingConsent>();
  readonly #log: Logger;

  constructor(deps: AssistantDeps) {
    this.#deps = deps;
    this.registry = deps.registry;
    this.#store = new ConversationStore(deps.maxConversations);
    this.#log = deps.logger.child({ component: 'assistant' });
  }

  // ---- skills -----------------------------------------------------------------------------------

  /**
   * Registers (or replaces) an app's actions from its OpenAPI description (YAML or JSON text).
   * @throws AssistantError `unknownApp`; SkillSpecError `invalidSpec` listing every problem.
   */
  registerSkillsYaml(
    clientId: string,
    yamlText: string,
    options: { legacyPlugin?: LegacyPluginRef } = {},
  ): RegisteredSkills {
    if (this.#deps.directory.appName(clientId) === undefined)
      throw new AssistantError(AssistantErrorCode.UnknownApp, `no app with clientId ${clientId}`, 'clientId');
    const document = parseSkillsYaml(yamlText);
    const entry = this.registry.register(clientId, document, this.#deps.clock.now(), options.legacyPlugin);
    try {
      this.registerCallbackUri([clientId]);
    } catch (err) {
      // Before the sandbox listens its URL is unknown; the callback is registered before each consent anyway.
      this.#log.debug({ clientId, err: toError(err).message }, 'assistant callback not registered yet');
    }
    this.#log.info(
      {
        clientId,
        protocol: document.protocol,
        actions: document.actions.map((a) => a.operationId),
        ...(options.legacyPlugin ? { legacyPlugin: options.legacyPlugin.pluginId } : {}),
      },
      'skills registered',
    );
    for (const w of document.warnings)
      this.#log.warn({ clientId, at: w.at }, `skills description: ${w.message}`);
    return entry;
  }

  /**
   * Registers the assistant's OAuth callback as a login redirect URI of these apps (like adding
   * `https://baymax.dingtalk.com/oauth2` under 登录与分享). Idempotent; also done before every consent.
   */
  registerCallbackUri(clientIds: readonly string[]): void {
    const uri = this.#deps.callbackUrl();
    for (const clientId of clientIds) this.#deps.authorization.ensureRedirectUri(clientId, uri);
  }

  // ---- conversations ----------------------------------------------------------------------------

  /** @throws AssistantError `unknownConversation` */
  conversation(id: string): Conversation {
    this.#sweep();
    return this.#store.get(id);
  }

  conversations(userId?: string): Conversation[] {
    this.#sweep();
    return this.#store.list(userId);
  }

  /** Forgets conversations and pending cards (sandbox reset). */
  reset(): void {
    this.#store.clear();
    this.#pending.clear();
    this.#deps.sessionWebhooks?.clear();
  }

  /**
   * A skill posted a reply to its session webhook: it becomes a `reply` step of that invocation.
   * False when the conversation is gone (the sandbox keeps a bounded number).
   */
  recordReply(target: { conversationId: string; invocationId: string }, reply: SessionReply): boolean {
    let conversation: Conversation;
    try {
      conversation = this.#store.get(target.conversationId);
    } catch (err) {
      if (err instanceof AssistantError) return false;
      throw err;
    }
    this.#store.append(conversation, {
      step: 'reply',
      via: 'sessionWebhook',
      at: this.#deps.clock.now(),
      invocationId: target.invocationId,
      ...reply,
    });
    this.#log.info(
      { conversationId: conversation.id, invocationId: target.invocationId, msgtype: reply.msgtype },
      'session webhook reply',
    );
    return true;
  }

  // ---- invoking ---------------------------------------------------------------------------------

  /**
   * Runs an action for a user. Resolves when the invocation is done (result or error) or waits for
   * consent (`awaiting_consent`, with `consentUrl`). Never rejects for what the skill does; rejects
   * with AssistantError for an unknown user, action or conversation.
   */
  async invoke(input: InvokeInput): Promise<InvokeOutcome> {
    this.#sweep();
    const user = this.#user(input.userId);
    const found = this.registry.find(input.operationId, input.clientId);
    const now = this.#deps.clock.now();
    const conversation = this.#store.open(user.userId, now, input.conversationId);
    const id = `inv-${randomUUID()}`;
    const summary: InvocationSummary = {
      id,
      operationId: found.action.operationId,
      clientId: found.skills.clientId,
      status: 'running',
      skillCalls: 0,
      startedAt: now,
    };
    conversation.invocations.push(summary);
    const run: Run = {
      id,
      conversation,
      summary,
      found,
      user,
      appName: this.#deps.directory.appName(found.skills.clientId) ?? found.skills.clientId,
      values: {},
      text: input.text,
      autoConsent: input.autoConsent === true,
    };
    const params = input.params ?? {};
    this.#step(run, {
      step: 'invoke',
      attempt: 1,
      operationId: found.action.operationId,
      summary: found.action.summary,
      clientId: found.skills.clientId,
      appName: run.appName,
      userId: user.userId,
      params,
      ...(input.text !== undefined ? { text: input.text } : {}),
      withAuthCode: false,
    });
    const checked = checkParams(found.action, params);
    if (!checked.ok) {
      this.#fail(run, 'invalidParams', `${found.action.operationId}: ${checked.problems.join('; ')}`);
      return this.#outcome(run);
    }
    run.values = checked.values;
    await this.#attempt(run, 1, undefined);
    return this.#outcome(run);
  }

  /** Runs the action a plain-text command names (grammar in `command.ts`). */
  async say(input: SayInput): Promise<InvokeOutcome> {
    const user = this.#user(input.userId);
    const candidates: CommandCandidate[] = this.registry
      .list()
      .filter((s) => input.clientId === undefined || s.clientId === input.clientId)
      .flatMap((s) => s.document.actions.map((action) => ({ clientId: s.clientId, action })));
    const match = parseCommand(input.text, candidates);
    if (match.kind === 'match')
      return this.invoke({
        clientId: match.candidate.clientId,
        operationId: match.candidate.action.operationId,
        userId: user.userId,
        params: match.params,
        text: input.text,
        ...(input.conversationId !== undefined ? { conversationId: input.conversationId } : {}),
        ...(input.autoConsent !== undefined ? { autoConsent: input.autoConsent } : {}),
      });
    const now = this.#deps.clock.now();
    const conversation = this.#store.open(user.userId, now, input.conversationId);
    const invocationId = `inv-${randomUUID()}`;
    const step: TranscriptStep = {
      step: 'error',
      at: now,
      invocationId,
      code: 'noMatchingSkill',
      message: match.message,
      text: input.text,
    };
    this.#store.append(conversation, step);
    return { conversationId: conversation.id, invocationId, status: 'done', transcript: [step] };
  }

  /**
   * The consent page sent the user back (`/sandbox/assistant/oauth2?code=&state=` or
   * `?error=access_denied&state=`): records the decision and, on approval, runs the skill again with
   * the code as `oauthAuthCode`.
   * @throws AssistantError `invalidState` (unknown, used or expired state), `invalidParameter` (neither code nor error).
   */
  async completeConsent(callback: ConsentCallback): Promise<InvokeOutcome> {
    this.#sweep();
    const pending = this.#pending.get(callback.state);
    if (!pending)
      throw new AssistantError(
        AssistantErrorCode.InvalidState,
        'unknown, used or expired state: an authorization card can be answered once, within its time',
        'state',
      );
    if (!callback.code && !callback.error)
      throw new AssistantError(
        AssistantErrorCode.InvalidParameter,
        'expected code (or authCode) or error',
        'code',
      );
    this.#pending.delete(callback.state);
    const { run } = pending;
    run.consentUrl = undefined;
    const { clientId } = run.found.skills;
    if (!callback.code) {
      this.#step(run, {
        step: 'consent',
        decision: 'deny',
        scopes: pending.scopes,
        via: 'page',
        error: callback.error ?? 'access_denied',
      });
      this.#fail(
        run,
        'consentDenied',
        `用户拒绝了授权，技能未再执行。The user did not authorize ${run.appName} (${callback.error}); the skill was not run again.`,
      );
      return this.#outcome(run);
    }
    // The sandbox's consent page lets anyone pick any seed account; DingTalk only ever asks the
    // person in the conversation. A code issued to someone else must not run the skill as them.
    const owner = this.#deps.authorization.codeOwner(callback.code, clientId);
    if (owner !== undefined && owner !== run.user.userId) {
      const who = this.#deps.directory.user(owner);
      this.#step(run, {
        step: 'consent',
        decision: 'approve',
        scopes: pending.scopes,
        via: 'page',
        userId: owner,
      });
      this.#log.warn(
        { invocationId: run.id, clientId, userId: run.user.userId, consentUserId: owner },
        'consent came from another account than the one talking; the skill was not run again',
      );
      this.#fail(
        run,
        'consentWrongUser',
        `授权账号（${who?.name ?? owner}）与提问的用户（${run.user.name}）不一致，技能未再执行。` +
          `Consent was given as ${owner}, not as ${run.user.userId} who asked; the skill was not run again.`,
      );
      return this.#outcome(run);
    }
    this.#step(run, {
      step: 'consent',
      decision: 'approve',
      scopes: this.#deps.authorization.grantedScopes(run.user.userId, clientId) ?? pending.scopes,
      via: 'page',
    });
    this.#log.info(
      { invocationId: run.id, clientId, userId: run.user.userId },
      'consent approved on the page',
    );
    await this.#attempt(run, 2, callback.code);
    return this.#outcome(run);
  }

  // ---- the flow ---------------------------------------------------------------------------------

  async #attempt(run: Run, attempt: 1 | 2, authCode: string | undefined): Promise<void> {
    const { action, skills } = run.found;
    const { clientId } = skills;
    if (attempt === 2)
      this.#step(run, {
        step: 'invoke',
        attempt: 2,
        operationId: action.operationId,
        summary: action.summary,
        clientId,
        appName: run.appName,
        userId: run.user.userId,
        params: run.values,
        ...(run.text !== undefined ? { text: run.text } : {}),
        withAuthCode: authCode !== undefined,
      });

    // Platform-triggered: the action declares delegated scopes the user has not granted to this app.
    // A legacy AI plugin triggers the card itself (seed: "AI 插件服务端触发"): it is always called.
    if (action.delegatedScopes.length > 0 && skills.legacyPlugin === undefined) {
      const granted = this.#deps.authorization.grantedScopes(run.user.userId, clientId);
      const missing = action.delegatedScopes.filter((s) => !granted?.includes(s));
      if (missing.length > 0) {
        if (attempt === 2) {
          this.#fail(
            run,
            'consentIncomplete',
            `after consent the grant still lacks ${missing.join(', ')}; the skill was not run again`,
          );
          return;
        }
        await this.#card(run, {
          trigger: 'platform',
          code:
            granted === undefined ? AuthFailureCode.InvalidAuthentication : AuthFailureCode.PermissionDenied,
          missing,
          requested: missing,
          message:
            granted === undefined
              ? `${run.appName} 需要你的授权 needs your authorization to ${action.summary}`
              : `${run.appName} 需要更多权限 needs more permissions: ${missing.join(', ')}`,
        });
        return;
      }
    }

    const webhook = this.#deps.sessionWebhooks?.issue({
      conversationId: run.conversation.id,
      invocationId: run.id,
      clientId,
      userId: run.user.userId,
    });
    if (webhook) run.conversation.sessionWebhook = { url: webhook.url, expiresAt: webhook.expiresAt };
    const built = buildRequest(action, run.values, {
      user: run.user,
      conversationId: run.conversation.id,
      conversationToken: run.conversation.conversationToken,
      inputAttribute: JSON.stringify({ inputType: run.text !== undefined ? 'text' : 'form' }),
      ...(webhook ? { sessionWebhook: webhook.url } : {}),
      ...(authCode !== undefined ? { authCode } : {}),
      ...(run.text !== undefined ? { text: run.text } : {}),
    });
    const requestId = randomUUID();
    let pluginData: Record<string, unknown> | undefined;
    if (skills.legacyPlugin !== undefined) {
      // "需要token": the user's access token rides in data (fresh from the code right after consent).
      const accessToken = this.#deps.authorization.pluginAccessToken(run.user.userId, clientId, authCode);
      pluginData = { ...run.values, ...(accessToken !== undefined ? { accessToken } : {}) };
    }
    run.summary.skillCalls++;
    let result: SkillCallResult;
    try {
      result = await this.#deps.caller.call(
        {
          clientId,
          operationId: action.operationId,
          method: built.method,
          uri: built.uri,
          body: built.body,
          requestId,
          ...(pluginData !== undefined ? { pluginData } : {}),
        },
        {
          protocol: skills.document.protocol,
          ...(skills.legacyPlugin !== undefined ? { legacyPlugin: skills.legacyPlugin } : {}),
          ...(skills.document.serverUrl !== undefined ? { serverUrl: skills.document.serverUrl } : {}),
        },
      );
    } catch (err) {
      this.#log.error({ invocationId: run.id, err: toError(err) }, 'skill call threw');
      result = { kind: 'failed', code: 'transportError', message: toError(err).message };
    }

    if (result.kind === 'failed') {
      this.#fail(run, FAILURE_STEP[result.code] ?? 'transportError', this.#failureMessage(run, result));
      return;
    }
    const failure = readAuthFailure(result.body);
    if (failure) {
      const required = requiredScopesOf(result.body);
      const undeclared = required.filter((s) => !action.delegatedScopes.includes(s));
      const undeclaredWarning = `skill "${action.operationId}" needs ${undeclared.join(', ')} but does not declare it: declare it in \`scopes\` of defineSkill (x-dingtalk-delegated-scopes); DingTalk asks the user only for declared scopes`;
      if (attempt === 2) {
        this.#fail(
          run,
          'authorizationFailedAgain',
          `the skill answered ${failure.code} again right after the user consented; the assistant does not ask twice in a row. ` +
            (undeclared.length > 0
              ? `${undeclaredWarning}.`
              : 'Check that the skill exchanges the fresh oauthAuthCode at /v1.0/oauth2/userAccessToken and that ' +
                'x-dingtalk-delegated-scopes lists every permission it uses.'),
          result.status,
          result.body,
        );
        return;
      }
      const wanted = unique([...action.delegatedScopes, ...required]);
      const granted = this.#deps.authorization.grantedScopes(run.user.userId, clientId) ?? [];
      await this.#card(run, {
        trigger: 'skill',
        code: failure.code,
        missing: wanted.filter((s) => !granted.includes(s)),
        requested: wanted,
        status: result.status,
        requestId: failure.requestId,
        ...(undeclared.length > 0
          ? {
              undeclaredScopes: undeclared,
              warning: undeclaredWarning,
            }
          : {}),
        message:
          failure.code === AuthFailureCode.InvalidAuthentication
            ? `${run.appName} 的授权已失效或不存在，请重新授权 The app's authorization expired or is missing: authorize again`
            : `${run.appName} 缺少接口权限 lacks a permission: authorize it`,
      });
      return;
    }
    if (result.status >= 200 && result.status < 300) {
      this.#step(run, { step: 'result', status: result.status, body: result.body });
      this.#settle(run, 'done');
      this.#log.info(
        {
          invocationId: run.id,
          operationId: action.operationId,
          userId: run.user.userId,
          status: result.status,
        },
        'skill result',
      );
      return;
    }
    const body = result.body as Record<string, unknown> | null;
    const detail =
      body && typeof body === 'object' && typeof body.message === 'string'
        ? `${typeof body.code === 'string' ? `${body.code}: ` : ''}${body.message}`
        : `status ${result.status}`;
    this.#fail(run, 'skillError', `the skill answered with an error (${detail})`, result.status, result.body);
  }

  async #card(
    run: Run,
    card: Pick<AuthCardStep, 'trigger' | 'code' | 'message'> & {
      missing: string[];
      requested: string[];
      status?: number;
      requestId?: string;
      undeclaredScopes?: string[];
      warning?: string;
    },
  ): Promise<void> {
    const { authorization, clock } = this.#deps;
    const { clientId } = run.found.skills;
    const state = randomBytes(16).toString('hex');
    const scopes = unique(['openid', ...card.requested]);
    const redirectUri = this.#deps.callbackUrl();
    const request = { clientId, userId: run.user.userId, scopes, redirectUri, state };
    authorization.ensureRedirectUri(clientId, redirectUri);
    const consentUrl = authorization.consentUrl(request);
    this.#step(run, {
      step: 'auth_card',
      trigger: card.trigger,
      code: card.code,
      clientId,
      appName: run.appName,
      userId: run.user.userId,
      missingScopes: card.missing.map((s) => authorization.describeScope(s)),
      requestedScopes: scopes,
      consentUrl,
      ...(card.status !== undefined ? { status: card.status } : {}),
      ...(card.requestId !== undefined ? { requestId: card.requestId } : {}),
      message: card.message,
      ...(card.undeclaredScopes ? { undeclaredScopes: card.undeclaredScopes, warning: card.warning } : {}),
    });
    this.#log.info(
      { invocationId: run.id, clientId, userId: run.user.userId, trigger: card.trigger, code: card.code },
      'authorization card shown',
    );
    if (run.autoConsent) {
      let consent: { code: string; scopes: string[] };
      try {
        consent = authorization.authorizeHeadless(request);
      } catch (err) {
        this.#fail(run, 'consentFailed', `headless consent failed: ${toError(err).message}`);
        return;
      }
      this.#step(run, { step: 'consent', decision: 'approve', scopes: consent.scopes, via: 'headless' });
      await this.#attempt(run, 2, consent.code);
      return;
    }
    this.#pending.set(state, {
      run,
      scopes,
      expiresAt: clock.now() + (this.#deps.consentTtlMs ?? DEFAULT_CONSENT_TTL_MS),
    });
    run.consentUrl = consentUrl;
    this.#settle(run, 'awaiting_consent');
  }

  #failureMessage(run: Run, result: Extract<SkillCallResult, { kind: 'failed' }>): string {
    const { clientId, document } = run.found.skills;
    if (result.code === 'noSubscriber')
      return `${run.appName} (${clientId}) has no live Stream connection subscribed to /v1.0/graph/api/invoke: is the app running (dingtalk-skills dev)? ${result.message}`;
    if (result.code === 'timeout') return `the skill did not answer in time: ${result.message}`;
    if (document.protocol === 'http') return `calling ${document.serverUrl} failed: ${result.message}`;
    return `the call failed (${result.code}): ${result.message}`;
  }

  // ---- bookkeeping ------------------------------------------------------------------------------

  #user(userId: string): AssistantUser {
    const user = this.#deps.directory.user(userId);
    if (!user)
      throw new AssistantError(
        AssistantErrorCode.UnknownUser,
        `no user ${userId} (users: ${this.#deps.directory
          .users()
          .map((u) => u.userId)
          .join(', ')})`,
        'userId',
      );
    return user;
  }

  #step(run: Run, step: StepInput): void {
    this.#store.append(run.conversation, {
      ...step,
      at: this.#deps.clock.now(),
      invocationId: run.id,
    } as TranscriptStep);
  }

  #fail(run: Run, code: ErrorStepCode, message: string, status?: number, body?: unknown): void {
    this.#step(run, {
      step: 'error',
      code,
      message,
      ...(status !== undefined ? { status } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    this.#settle(run, 'done');
    this.#log.info(
      { invocationId: run.id, operationId: run.found.action.operationId, userId: run.user.userId, code },
      'invocation ended with an error',
    );
  }

  #settle(run: Run, status: InvocationStatus): void {
    this.#store.settle(run.conversation, run.summary, status);
  }

  /** Ends cards nobody answered in time. */
  #sweep(): void {
    const now = this.#deps.clock.now();
    for (const [state, pending] of this.#pending) {
      if (pending.expiresAt > now) continue;
      this.#pending.delete(state);
      pending.run.consentUrl = undefined;
      this.#fail(
        pending.run,
        'consentExpired',
        'no decision on the authorization card in time; the skill was not run',
      );
    }
  }

  #outcome(run: Run): InvokeOutcome {
    const out: InvokeOutcome = {
      conversationId: run.conversation.id,
      invocationId: run.id,
      status: run.summary.status === 'awaiting_consent' ? 'awaiting_consent' : 'done',
      transcript: run.conversation.transcript.filter((s) => s.invocationId === run.id),
    };
    if (run.consentUrl !== undefined) out.consentUrl = run.consentUrl;
    return out;
  }
}
