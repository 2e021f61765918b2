export { type BotMessageOutcome, type BotObserver, BotRunner, type BotRunnerOptions } from './bot-runner.js';
export {
  type CardAction,
  type CardActionContext,
  type CardActionHandler,
  CardActionRouter,
  type CardUpdate,
  cardUpdateResponse,
  decodeCardAction,
} from './card-callback.js';
export type { CardStream, CardStreamer, CardStreamOptions, CardTarget } from './card-streamer.js';
export { BotConsent, type BotConsentConfig } from './consent.js';
export { type BotContext, type BotDefinition, defineBot } from './define-bot.js';
export {
  type AtUser,
  type BotMessage,
  type BotMessageBody,
  type ConversationKind,
  decodeBotMessage,
  type RichTextPart,
} from './message.js';
export {
  type ActionButton,
  type ActionCardReply,
  type BotReply,
  createBotReply,
  MAX_ACTION_BUTTONS,
  MAX_AT_USERS,
  MAX_REPLY_BYTES,
  MAX_TITLE_CHARS,
  type ReplyReceipt,
} from './reply.js';
export { scopeLabel } from './scope-labels.js';
export { DEFAULT_OAPI_BASE, SenderDirectory } from './sender-directory.js';
