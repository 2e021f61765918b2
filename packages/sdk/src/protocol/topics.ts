/** Stream topics DingTalk delivers (protocol/README.md; docs/guide.md, how a message flows). */
export const Topic = {
  /** Graph API: AI assistant actions and AI plugins (CALLBACK). */
  GraphInvoke: '/v1.0/graph/api/invoke',
  /** Legacy AI plugin callback, 2023 (CALLBACK). */
  PluginCallback: '/v1.0/agi/plugins/callback',
  BotMessage: '/v1.0/im/bot/messages/get',
  BotDelegate: '/v1.0/im/bot/messages/delegate',
  CardCallback: '/v1.0/card/instances/callback',
  CardDynamicData: '/v1.0/card/dynamicData/get',
  /** The topic of every EVENT frame. */
  AllEvents: '*',
  Ping: 'ping',
  Disconnect: 'disconnect',
} as const;

export const FrameType = { System: 'SYSTEM', Event: 'EVENT', Callback: 'CALLBACK' } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
export const FRAME_TYPES: readonly FrameType[] = ['SYSTEM', 'EVENT', 'CALLBACK'];

/** Largest frame the Java SDK accepts; the sandbox never sends more, the client refuses more. */
export const MAX_FRAME_BYTES = 256 * 1024;
export const JSON_CONTENT_TYPE = 'application/json';
