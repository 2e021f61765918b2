import { z } from 'zod';
import { BotRunner } from '../bots/bot-runner.js';
import { CardActionRouter } from '../bots/card-callback.js';
import type { CardStreamer } from '../bots/card-streamer.js';
import { BotConsent, type BotConsentConfig } from '../bots/consent.js';
import type { BotDefinition } from '../bots/define-bot.js';
import { DEFAULT_OAPI_BASE, SenderDirectory } from '../bots/sender-directory.js';
import { AiCards, type AiCardsOptions } from '../cards/ai-cards.js';
import { aiCardStreamer } from '../cards/bot-streamer.js';
import type { UserTokenManager } from '../credentials/user-token-manager.js';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { HttpRoute } from '../health/ops-server.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OpenApiClient } from '../openapi/client.js';
import { Topic } from '../protocol/topics.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state/state-store.js';
import type { StreamClient } from '../stream/client.js';
import type { DedupStore } from '../stream/dedup-store.js';

/** Options of an app's bot (机器人) beyond its definition. */
export interface BotRuntimeOptions {
  /**
   * The authorization card (授权卡片) and consent callback of `ctx.asSender()`. Without it, a handler
   * that needs the sender's authorization gets a chat message saying the bot is not set up for it.
   */
  consent?: BotConsentConfig;
  /** Base of the legacy OpenAPI (`/topapi/v2/user/get`, sender staffId → unionId); default `https://oapi.dingtalk.com`. */
  oapiBase?: string;
  /**
   * Where pending consents and the AI card pacer live (default: the app's state store, `state.store`). Pass the shared state store when instances share the load: a consent answered
   * on any instance then finds its pending message, and the card QPS budget is shared.
   */
  state?: StateStore;
  /** AI card options of `reply.stream()` (AI卡片, default template, 800 ms per card, 20 QPS); `false`: no cards. */
  cards?: Omit<AiCardsOptions, 'openapi' | 'store' | 'logger'> | false;
}

const consentSchema = z.object({
  callbackUrl: z.url({ protocol: /^https?$/ }),
  loginBase: z.url({ protocol: /^https?$/ }).optional(),
  afterConsent: z.enum(['rerun', 'askAgain']).optional(),
  ttlMs: z
    .number()
    .int()
    .min(10_000)
    .max(24 * 3_600_000)
    .optional(),
  groupCard: z.enum(['conversation', 'private']).optional(),
});

/** What {@link createBotRuntime} builds. */
export interface BotRuntime {
  runner: BotRunner;
  /** The consent callback route by path (empty without `consent`). */
  routes: Record<string, HttpRoute>;
  /** Drains the handlers, then closes the AI cards (their watchdog) and the stores made here. */
  close(drainMs: number): Promise<void>;
}

/** Builds the bot's runner, its consent flow and (by default) its AI card streamer, and subscribes it. */
export function createBotRuntime(input: {
  bot: BotDefinition;
  appName: string;
  clientId: string;
  openapi: OpenApiClient;
  tokens: UserTokenManager;
  stream: StreamClient;
  dedup: DedupStore;
  logger: Logger;
  options: BotRuntimeOptions | undefined;
  answerStore: StateStore | undefined;
  cardStreamer: CardStreamer | undefined;
  now: (() => number) | undefined;
  metrics: Metrics | undefined;
}): BotRuntime {
  const o = input.options ?? {};
  const consentConfig = o.consent ? checkConsent(o.consent) : undefined;
  const given = o.state ?? input.answerStore;
  const ownState = given ? undefined : new MemoryStateStore({ logger: input.logger });
  const state: StateStore = given ?? (ownState as MemoryStateStore);
  const cards =
    input.cardStreamer || o.cards === false
      ? undefined
      : new AiCards({ ...(o.cards ?? {}), openapi: input.openapi, store: state, logger: input.logger });
  const cardStreamer =
    input.cardStreamer ??
    (cards ? aiCardStreamer(cards, input.openapi, input.now ? { now: input.now } : {}) : undefined);
  const runner = new BotRunner({
    bot: input.bot,
    openapi: input.openapi,
    logger: input.logger,
    dedup: input.dedup,
    namespace: input.clientId,
    robotCode: input.clientId,
    tokens: input.tokens,
    senders: new SenderDirectory({
      openapi: input.openapi,
      oapiBase: o.oapiBase ?? DEFAULT_OAPI_BASE,
      ...(input.now ? { now: input.now } : {}),
    }),
    ...(input.now ? { now: input.now } : {}),
    ...(input.metrics ? { observer: input.metrics } : {}),
    ...(cardStreamer ? { cardStreamer } : {}),
  });
  const routes: Record<string, HttpRoute> = {};
  if (consentConfig) {
    const consent = new BotConsent({
      config: consentConfig,
      clientId: input.clientId,
      appName: input.appName,
      store: state,
      tokens: input.tokens,
      logger: input.logger.child({ component: 'bot-consent' }),
      replyFor: (message) => runner.replyFor(message),
      rerun: (message) => runner.rerun(message),
    });
    runner.useConsent(consent);
    routes[new URL(consentConfig.callbackUrl).pathname] = consent.handler();
  }
  input.stream.onCallback(Topic.BotMessage, (msg) => runner.handle(msg));
  if (input.bot.cardActions && Object.keys(input.bot.cardActions).length > 0) {
    const router = new CardActionRouter(input.bot.cardActions, input.logger, (staffId) =>
      runner.asStaff(staffId),
    );
    input.stream.onCallback(Topic.CardCallback, (msg, ctx) => router.handle(msg, ctx));
  }
  return {
    runner,
    routes,
    async close(drainMs) {
      await runner.drain(drainMs);
      await cards?.close();
      await ownState?.close();
    },
  };
}

function checkConsent(config: BotConsentConfig): BotConsentConfig {
  const parsed = consentSchema.safeParse(config);
  if (!parsed.success)
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `invalid bot consent config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(consent)'}: ${i.message}`).join('; ')}`,
    );
  return config;
}
