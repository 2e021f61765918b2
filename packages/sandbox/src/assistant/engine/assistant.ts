import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@dingtalk-skills/sdk';
import { toError } from '@dingtalk-skills/sdk/internal';
import type { LegacyPluginRef } from '../callers/plugin.js';
import { AssistantError, AssistantErrorCode } from '../errors.js';
import { parseSkillsYaml } from '../openapi-document/parse.js';
import type { AssistantUser } from '../ports.js';
import type { RegisteredSkills, SkillRegistry } from '../registry.js';
import type { SessionReply } from '../session-webhook/reply.js';
import { callSkill } from './call.js';
import { type CommandCandidate, parseCommand } from './command.js';
import { ConversationStore } from './conversations.js';
import {
  type AttemptFacts,
  type CardRequest,
  checkGrant,
  type Decision,
  interpret,
  unique,
} from './interpret.js';
import type {
  AssistantDeps,
  ConsentCallback,
  InvokeInput,
  InvokeOutcome,
  RunState,
  SayInput,
} from './invocation.js';
import { messages } from './messages.js';
import { checkParams } from './params.js';
import { RunBook } from './runs.js';
import type { Conversation, InvocationSummary, TranscriptStep } from './transcript.js';

interface PendingConsent {
  run: RunState;
  scopes: string[];
  expiresAt: number;
}

const DEFAULT_CONSENT_TTL_MS = 10 * 60 * 1000;

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
  readonly #runs: RunBook;

  constructor(deps: AssistantDeps) {
    this.#deps = deps;
    this.registry = deps.registry;
    this.#store = new ConversationStore(deps.maxConversations);
    this.#log = deps.logger.child({ component: 'assistant' });
    this.#runs = new RunBook(this.#store, deps.clock, this.#log);
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
    const run: RunState = {
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
    this.#runs.step(run, {
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
      this.#runs.fail(run, 'invalidParams', `${found.action.operationId}: ${checked.problems.join('; ')}`);
      return this.#runs.outcome(run);
    }
    run.values = checked.values;
    await this.#attempt(run, 1, undefined);
    return this.#runs.outcome(run);
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
      this.#runs.step(run, {
        step: 'consent',
        decision: 'deny',
        scopes: pending.scopes,
        via: 'page',
        error: callback.error ?? 'access_denied',
      });
      this.#runs.fail(run, 'consentDenied', messages.consentDenied(run.appName, callback.error));
      return this.#runs.outcome(run);
    }
    // The sandbox's consent page lets anyone pick any seed account; DingTalk only ever asks the
    // person in the conversation. A code issued to someone else must not run the skill as them.
    const owner = this.#deps.authorization.codeOwner(callback.code, clientId);
    if (owner !== undefined && owner !== run.user.userId) {
      const who = this.#deps.directory.user(owner);
      this.#runs.step(run, {
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
      this.#runs.fail(
        run,
        'consentWrongUser',
        messages.consentWrongUser(who?.name ?? owner, run.user.name, owner, run.user.userId),
      );
      return this.#runs.outcome(run);
    }
    this.#runs.step(run, {
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
    return this.#runs.outcome(run);
  }

  // ---- the flow: check, call, interpret -----------------------------------------------------------

  async #attempt(run: RunState, attempt: 1 | 2, authCode: string | undefined): Promise<void> {
    const { action, skills } = run.found;
    if (attempt === 2)
      this.#runs.step(run, {
        step: 'invoke',
        attempt: 2,
        operationId: action.operationId,
        summary: action.summary,
        clientId: skills.clientId,
        appName: run.appName,
        userId: run.user.userId,
        params: run.values,
        ...(run.text !== undefined ? { text: run.text } : {}),
        withAuthCode: authCode !== undefined,
      });
    const refused = checkGrant(this.#facts(run, attempt));
    if (refused !== undefined) {
      await this.#apply(run, refused);
      return;
    }
    const result = await callSkill(this.#deps, this.#log, run, authCode);
    await this.#apply(run, interpret(result, this.#facts(run, attempt)));
  }

  #facts(run: RunState, attempt: 1 | 2): AttemptFacts {
    const granted = this.#deps.authorization.grantedScopes(run.user.userId, run.found.skills.clientId);
    return { found: run.found, appName: run.appName, attempt, granted };
  }

  async #apply(run: RunState, decision: Decision): Promise<void> {
    if (decision.kind === 'fail') {
      this.#runs.fail(run, decision.code, decision.message, decision.status, decision.body);
      return;
    }
    if (decision.kind === 'card') {
      await this.#card(run, decision.card);
      return;
    }
    this.#runs.step(run, { step: 'result', status: decision.status, body: decision.body });
    this.#runs.settle(run, 'done');
    this.#log.info(
      {
        invocationId: run.id,
        operationId: run.found.action.operationId,
        userId: run.user.userId,
        status: decision.status,
      },
      'skill result',
    );
  }

  async #card(run: RunState, card: CardRequest): Promise<void> {
    const { authorization, clock } = this.#deps;
    const { clientId } = run.found.skills;
    const state = randomBytes(16).toString('hex');
    const scopes = unique(['openid', ...card.requested]);
    const redirectUri = this.#deps.callbackUrl();
    const request = { clientId, userId: run.user.userId, scopes, redirectUri, state };
    authorization.ensureRedirectUri(clientId, redirectUri);
    const consentUrl = authorization.consentUrl(request);
    this.#runs.step(run, {
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
        this.#runs.fail(run, 'consentFailed', messages.headlessConsentFailed(toError(err).message));
        return;
      }
      this.#runs.step(run, { step: 'consent', decision: 'approve', scopes: consent.scopes, via: 'headless' });
      await this.#attempt(run, 2, consent.code);
      return;
    }
    this.#pending.set(state, {
      run,
      scopes,
      expiresAt: clock.now() + (this.#deps.consentTtlMs ?? DEFAULT_CONSENT_TTL_MS),
    });
    run.consentUrl = consentUrl;
    this.#runs.settle(run, 'awaiting_consent');
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

  /** Ends cards nobody answered in time. */
  #sweep(): void {
    const now = this.#deps.clock.now();
    for (const [state, pending] of this.#pending) {
      if (pending.expiresAt > now) continue;
      this.#pending.delete(state);
      pending.run.consentUrl = undefined;
      this.#runs.fail(pending.run, 'consentExpired', messages.consentExpired());
    }
  }
}
