import { defineApp } from '@dingtalk-skills/sdk';
import { meetingBot } from './meeting-bot.js';

/**
 * The example chat bot (机器人): asks nothing of the app's own identity; everything it reads or writes
 * is done as the person who sent the message (用户代理凭证). Run it with `npx dingtalk-skills dev examples/bot`.
 */
export default defineApp({
  name: '会议助手 Meeting bot',
  version: '1.0.0',
  description: 'A chat bot that answers with the sender’s own calendar and creates to-dos as the sender.',
  skills: [],
  bot: meetingBot,
});
