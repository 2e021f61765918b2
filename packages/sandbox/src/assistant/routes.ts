import type { Logger } from '@dingtalk-skills/sdk';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { controlErrorHandler } from '../control/errors.js';
import { parseInput } from '../control/validate.js';
import type { Assistant } from './engine/assistant.js';
import { AssistantError, AssistantErrorCode } from './errors.js';
import { callbackErrorPage } from './page.js';
import type { Directory } from './ports.js';
import { skillsView } from './views.js';
import { ASSISTANT_CALLBACK_PATH } from './wiring.js';

const id = z.string().min(1).max(128);

const invokeBody = z.object({
  operationId: id,
  userId: id,
  params: z.record(z.string(), z.unknown()).optional(),
  autoConsent: z.boolean().optional(),
  conversationId: id.optional(),
  clientId: id.optional(),
});

const sayBody = z.object({
  userId: id,
  text: z.string().min(1).max(4096),
  autoConsent: z.boolean().optional(),
  conversationId: id.optional(),
  clientId: id.optional(),
});

const skillsJsonBody = z.object({
  yaml: z.string(),
  clientId: id.optional(),
  /** Register the description as a legacy AI plugin (AI 插件): its abilities are called on `/v1.0/agi/plugins/callback`. */
  legacyPlugin: z
    .object({ pluginId: id.optional(), pluginVersion: z.string().min(1).max(32).optional() })
    .strict()
    .optional(),
});
const skillsQuery = z.object({ clientId: id.optional() });
const conversationsQuery = z.object({ userId: id.optional() });
const idParams = z.object({ id });
const clientParams = z.object({ clientId: id });
const overviewQuery = z.object({ userId: id.optional() });

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

/** What the routes read besides the assistant. */
export interface RouteDeps {
  assistant: Assistant;
  directory: Directory;
  logger: Logger;
  /** Granted scopes and connections, for the page's side panel. */
  overview(userId: string | undefined): unknown;
}

/**
 * The assistant's control API (JSON, `{code, message, field?}` errors) and its OAuth callback:
 * - `POST /sandbox/skills` (YAML body, `?clientId=`; or JSON `{yaml, clientId?}`), `GET /sandbox/skills[/:clientId]`
 * - `POST /sandbox/assistant/invoke`, `POST /sandbox/assistant/say`
 * - `GET /sandbox/assistant/conversations[?userId=]`, `GET /sandbox/assistant/conversations/:id`
 * - `GET /sandbox/assistant/overview[?userId=]` (users, apps, grants, connections: the page's side panel)
 * - `GET /sandbox/assistant/oauth2?code=&authCode=&state=` / `?error=&state=` (browser: 302 to `/?conversation=<id>`)
 */
export async function registerAssistantRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { assistant, directory, logger } = deps;
  await app.register(async (scope) => {
    scope.setErrorHandler(controlErrorHandler(logger));
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

    scope.post('/sandbox/skills', async (req) => {
      let yaml: string;
      let clientId: string | undefined;
      let legacyPlugin: { pluginId: string; pluginVersion: string } | undefined;
      if (typeof req.body === 'string') {
        yaml = req.body;
        clientId = parseInput(skillsQuery, req.query, 'query').clientId;
      } else {
        const body = parseInput(skillsJsonBody, req.body);
        yaml = body.yaml;
        clientId = body.clientId ?? parseInput(skillsQuery, req.query, 'query').clientId;
        if (body.legacyPlugin !== undefined)
          legacyPlugin = {
            pluginId: body.legacyPlugin.pluginId ?? `AI-${clientId ?? assistant.registry.defaultClientId}`,
            pluginVersion: body.legacyPlugin.pluginVersion ?? '1.0.0',
          };
      }
      const target = clientId ?? assistant.registry.defaultClientId;
      const entry = assistant.registerSkillsYaml(target, yaml, legacyPlugin ? { legacyPlugin } : {});
      return skillsView(entry, directory.appName(target) ?? target);
    });

    scope.get('/sandbox/skills', async () => ({
      skills: assistant.registry
        .list()
        .map((s) => skillsView(s, directory.appName(s.clientId) ?? s.clientId)),
    }));

    scope.get('/sandbox/skills/:clientId', async (req) => {
      const { clientId } = parseInput(clientParams, req.params, 'params');
      const entry = assistant.registry.get(clientId);
      if (!entry)
        throw new AssistantError(
          AssistantErrorCode.UnknownApp,
          `app ${clientId} has no registered skills`,
          'clientId',
        );
      return skillsView(entry, directory.appName(clientId) ?? clientId);
    });

    scope.post('/sandbox/assistant/invoke', async (req) => {
      const body = parseInput(invokeBody, req.body);
      return assistant.invoke(body);
    });

    scope.post('/sandbox/assistant/say', async (req) => {
      const body = parseInput(sayBody, req.body);
      return assistant.say(body);
    });

    scope.get('/sandbox/assistant/conversations', async (req) => {
      const { userId } = parseInput(conversationsQuery, req.query, 'query');
      return { conversations: assistant.conversations(userId) };
    });

    scope.get('/sandbox/assistant/conversations/:id', async (req) => {
      const params = parseInput(idParams, req.params, 'params');
      return assistant.conversation(params.id);
    });

    scope.get('/sandbox/assistant/overview', async (req) => {
      const { userId } = parseInput(overviewQuery, req.query, 'query');
      return deps.overview(userId);
    });
  });

  // The OAuth callback is visited by the browser: HTML on failure, a redirect to the page on success.
  app.get(ASSISTANT_CALLBACK_PATH, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const state = str(q.state);
    const code = str(q.authCode) ?? str(q.code);
    const error = str(q.error);
    const page = (status: number, zh: string, en: string, detail: string) =>
      reply
        .code(status)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(callbackErrorPage(zh, en, detail));
    if (state === undefined)
      return page(400, '缺少 state', 'Missing state', 'The callback carries no state parameter.');
    try {
      const outcome = await assistant.completeConsent({
        state,
        ...(code !== undefined ? { code } : {}),
        ...(error !== undefined ? { error } : {}),
      });
      return reply.redirect(`/?conversation=${encodeURIComponent(outcome.conversationId)}`, 302);
    } catch (err) {
      if (err instanceof AssistantError) {
        logger.info({ code: err.code }, 'assistant OAuth callback refused');
        return page(err.status, '授权回调无效', 'Invalid authorization callback', err.message);
      }
      throw err;
    }
  });
}
