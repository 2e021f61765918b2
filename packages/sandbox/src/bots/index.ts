/**
 * Bot chats (机器人会话): single chats and a group with the app's bot, bot message frames over Stream
 * with a session webhook (会话Webhook), the robot send APIs, and the control API to drive and read them.
 */
export {
  BotChats,
  type BotChatsDeps,
  type BotConversation,
  type ChatEntry,
  SANDBOX_GROUP_ID,
  SANDBOX_GROUP_TITLE,
  type SendInput,
  type SendResult,
} from './chats.js';
export {
  type BotControlDeps,
  cardCallbackBody,
  registerBotControl,
  sendBotMessageBody,
} from './control-routes.js';
export {
  BATCH_SEND_PATH,
  GROUP_SEND_PATH,
  lineOf,
  MAX_BATCH_USERS,
  MAX_MSG_PARAM_BYTES,
  registerRobotRoutes,
} from './robot-routes.js';
export {
  type BotTimeline,
  cardsOf,
  cardUpdateOf,
  MAX_TIMELINE_CARDS,
  type TimelineCard,
  type TimelineItem,
  type TimelineMessage,
  timelineOf,
} from './timeline.js';
