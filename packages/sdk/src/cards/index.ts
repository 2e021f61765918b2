/**
 * cards/: streaming AI card replies (AI卡片流式更新) for bots: create + deliver, full-text streaming
 * frames throttled per card, flow status, finish/fail with a markdown fallback, one app-wide QPS pacer
 * (shared across instances through the state store), and a watchdog for stalled replies.
 */
export { AiCards, type AiCardsOptions, type AiCardsStats, type CardStartOptions } from './ai-cards.js';
export {
  type AiCardBotStream,
  type AiCardStreamerOptions,
  type AiCardStreamerTarget,
  aiCardStreamer,
  aiCardTargetOf,
  clipMarkdown,
  sendMarkdown,
} from './bot-streamer.js';
export { CardApiPath, DEFAULT_AI_CARD_TEMPLATE_ID, FlowStatus } from './card-api.js';
export {
  AiCardStream,
  type CardFallback,
  type CardFallbackHandler,
  type CardOutcome,
  type CardResult,
  type CardStreamState,
} from './card-stream.js';
export { type CardCallPriority, CardPacer, type CardPacerOptions, type CardPacerStats } from './pacer.js';
export { type AiCardTarget, CardSpaceType, openSpaceIdOf } from './target.js';
