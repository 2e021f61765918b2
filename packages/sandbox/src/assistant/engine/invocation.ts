import type { Logger } from '@dingtalk-skills/sdk';
import type { AssistantUser, AuthorizationPort, Directory, SkillCaller } from '../ports.js';
import type { FoundAction, SkillRegistry } from '../registry.js';
import type { SessionWebhooks } from '../session-webhook/store.js';
import type { Conversation, InvocationStatus, InvocationSummary, TranscriptStep } from './transcript.js';

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

/** One invocation in flight (internal to the engine). */
export interface RunState {
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

/** A step as the engine records it (`at` and `invocationId` are added). */
export type StepInput = TranscriptStep extends infer S
  ? S extends TranscriptStep
    ? Omit<S, 'at' | 'invocationId'>
    : never
  : never;
