/**
 * The sandbox's AI assistant (DingTalk's "baymax") and its web page at `/`: skills registered from
 * OpenAPI descriptions, invocations with authorization cards, consent, one re-run, transcripts.
 * See README.md in this folder for the flow, the API and the command grammar.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import type { ConnectionInfo } from '../gateway/connection.js';
import type { Platform } from '../platform/platform.js';
import { type CallbackSender, createSkillCaller } from './callers/index.js';
import { Assistant } from './engine/assistant.js';
import { registerPage } from './page.js';
import { SkillRegistry } from './registry.js';
import { registerAssistantRoutes } from './routes.js';
import type { SessionReply } from './session-webhook/reply.js';
import { registerSessionWebhookRoute } from './session-webhook/routes.js';
import { type SessionWebhook, SessionWebhooks } from './session-webhook/store.js';
import { ASSISTANT_CALLBACK_PATH, platformAuthorization, platformDirectory } from './wiring.js';

export { callOverHttp, callOverStream, createSkillCaller, graphRequestFor } from './callers/index.js';
export { Assistant } from './engine/assistant.js';
export { type CommandMatch, parseCommand } from './engine/command.js';
export type {
  AssistantDeps,
  ConsentCallback,
  InvokeInput,
  InvokeOutcome,
  SayInput,
} from './engine/invocation.js';
export type * from './engine/transcript.js';
export { AssistantError, AssistantErrorCode, SkillSpecError } from './errors.js';
export { parseSkillsYaml } from './openapi-document/parse.js';
export type * from './openapi-document/types.js';
export type * from './ports.js';
export { type FoundAction, type RegisteredSkills, SkillRegistry } from './registry.js';
export type { SessionReply } from './session-webhook/reply.js';
export { SESSION_WEBHOOK_ANSWERS } from './session-webhook/routes.js';
export { SESSION_WEBHOOK_PATH, SESSION_WEBHOOK_TTL_MS, SessionWebhooks } from './session-webhook/store.js';
export { type ActionView, type ParamView, type SkillsView, skillsView } from './views.js';
export { ASSISTANT_CALLBACK_PATH, jobNumberOf, platformAuthorization, platformDirectory } from './wiring.js';

/** What {@link registerAssistant} needs from the sandbox. */
export interface RegisterAssistantDeps {
  ctx: SandboxContext;
  /** The Stream gateway (`Gateway`): CALLBACKs to apps, and its connections for the page. */
  gateway: CallbackSender & { listConnections(options?: { includeClosed?: boolean }): ConnectionInfo[] };
  platform: Platform;
  /** How long an authorization card waits for a decision (default 10 minutes). */
  consentTtlMs?: number;
  /** The session webhooks to issue from (default: the assistant's own); shared with the bot chats. */
  sessionWebhooks?: SessionWebhooks;
  /** Replies to webhooks another part issued (the bot chats): `owns` says whose, `record` takes them. */
  otherReplies?: {
    owns(webhook: SessionWebhook): boolean;
    record(webhook: SessionWebhook, reply: SessionReply): void;
  };
}

/**
 * Mounts the assistant on the sandbox's Fastify instance: the page at `/` (assets under
 * `/assistant/`), the control API (`/sandbox/skills`, `/sandbox/assistant/...`) and the OAuth callback
 * `/sandbox/assistant/oauth2`. Returns the assistant: `registerSkillsYaml(clientId, yaml)` registers an
 * app's skills in-process; `registerCallbackUri(clientIds)`, called once the sandbox knows its URL,
 * registers the callback as a login redirect URI of those apps (it is registered again before each
 * consent, so a platform reset does not lose it).
 *
 * Call before `listen`.
 */
export async function registerAssistant(
  app: FastifyInstance,
  deps: RegisterAssistantDeps,
): Promise<Assistant> {
  const { ctx, gateway, platform } = deps;
  const directory = platformDirectory(platform);
  const authorization = platformAuthorization(platform, ctx);
  const callbackUrl = () => `${ctx.url()}${ASSISTANT_CALLBACK_PATH}`;
  const registry = new SkillRegistry(
    ctx.options.apps[0]?.clientId ?? platform.repos.apps.list()[0]?.clientId ?? '',
  );
  const sessionWebhooks =
    deps.sessionWebhooks ?? new SessionWebhooks({ clock: ctx.clock, baseUrl: () => ctx.url() });
  const assistant = new Assistant({
    sessionWebhooks,
    registry,
    directory,
    authorization,
    caller: createSkillCaller(gateway, { timeoutMs: ctx.options.callbackTimeoutMs }),
    clock: ctx.clock,
    logger: ctx.logger,
    callbackUrl,
    ...(deps.consentTtlMs !== undefined ? { consentTtlMs: deps.consentTtlMs } : {}),
  });

  const overview = (userId: string | undefined) => {
    const connections = gateway.listConnections({ includeClosed: false });
    return {
      users: directory.users(),
      defaultClientId: registry.defaultClientId,
      apps: platform.repos.apps.list().map((a) => {
        const skills = registry.get(a.clientId);
        const grant = userId === undefined ? undefined : platform.repos.grants.get(userId, a.clientId);
        return {
          clientId: a.clientId,
          name: a.name,
          skills: skills
            ? { protocol: skills.document.protocol, actions: skills.document.actions.length }
            : null,
          grant: grant
            ? { scopes: grant.scopes, active: grant.revokedAt === null, updatedAt: grant.updatedAt }
            : null,
          connections: connections
            .filter((c) => c.appId === a.clientId)
            .map((c) => ({ id: c.id, state: c.state, connectedAt: c.connectedAt, ua: c.ua })),
        };
      }),
    };
  };

  registerPage(app);
  await registerSessionWebhookRoute(app, {
    webhooks: sessionWebhooks,
    logger: ctx.logger,
    deliver: (webhook, reply) => {
      if (deps.otherReplies?.owns(webhook)) deps.otherReplies.record(webhook, reply);
      else assistant.recordReply(webhook, reply);
    },
  });
  await registerAssistantRoutes(app, { assistant, directory, logger: ctx.logger, overview });
  return assistant;
}
