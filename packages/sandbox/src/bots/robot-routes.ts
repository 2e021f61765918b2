import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Failures, OpenApiFailure } from '../openapi/failure.js';
import { faultHook } from '../openapi/faults.js';
import { apiKeyOf, tokenHeader } from '../openapi/guard.js';
import { sendFailure, stampOpenApiReply } from '../openapi/reply.js';
import type { Platform } from '../platform/platform.js';
import type { BotChats, ChatEntry } from './chats.js';

export const BATCH_SEND_PATH = '/v1.0/robot/oToMessages/batchSend';
export const GROUP_SEND_PATH = '/v1.0/robot/groupMessages/send';
/** `userIds` per batchSend call (HELP `chatbots-send-one-on-one-chat-messages-in-batches`). */
export const MAX_BATCH_USERS = 20;
/** `msgParam` bytes (HELP `the-robot-sends-a-group-message`). */
export const MAX_MSG_PARAM_BYTES = 15_000;

const bad = (code: string, message: string) => new OpenApiFailure(400, code, message);

/** The app a robot API call acts for: an app token whose app is the `robotCode`. */
function appOf(platform: Platform, request: FastifyRequest, robotCode: unknown): string {
  const token = tokenHeader(request);
  if (token === undefined) throw Failures.missingToken();
  const resolved = platform.repos.tokens.resolveAccessToken(token);
  if (!resolved) throw Failures.invalidToken();
  if (!platform.qps.tryAcquire(resolved.clientId, apiKeyOf(request))) throw Failures.qpsLimit();
  if (resolved.kind !== 'app')
    throw Failures.invalidToken('机器人接口需要应用凭证 / the robot APIs take an app token');
  if (typeof robotCode !== 'string' || robotCode === '')
    throw bad('invalidParameter.robotCode.empty', 'robotCode is required');
  if (robotCode !== resolved.clientId)
    throw bad('invalidParameter.robotCode.auth', 'robotCode does not belong to this app');
  return resolved.clientId;
}

/** Reads msgKey + msgParam into a chat line (`sampleText`, `sampleMarkdown`, `sampleActionCard[2-5]`, `sampleLink`). */
export function lineOf(
  msgKey: unknown,
  msgParam: unknown,
): Pick<ChatEntry, 'msgtype' | 'text' | 'title' | 'buttons'> {
  if (typeof msgKey !== 'string' || msgKey === '')
    throw bad('invalidParameter.msgKey.empty', 'msgKey is required');
  if (typeof msgParam !== 'string')
    throw bad('invalidParameter.msgParam.invalid', 'msgParam must be a JSON string');
  if (Buffer.byteLength(msgParam) > MAX_MSG_PARAM_BYTES)
    throw bad('invalidParameter.msgParam.invalid', `msgParam is over ${MAX_MSG_PARAM_BYTES} bytes`);
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(msgParam) as Record<string, unknown>;
  } catch {
    throw bad('invalidParameter.msgParam.invalid', 'msgParam is not JSON');
  }
  if (typeof p !== 'object' || p === null)
    throw bad('invalidParameter.msgParam.invalid', 'msgParam is not an object');
  const s = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const need = (k: string) => {
    const v = s(k);
    if (v === undefined || v === '')
      throw bad('invalidParameter.msgParam.invalid', `msgParam.${k} is required`);
    return v;
  };
  switch (msgKey) {
    case 'sampleText':
      return { msgtype: 'text', text: need('content') };
    case 'sampleMarkdown':
      return { msgtype: 'markdown', title: need('title'), text: need('text') };
    case 'sampleLink':
      return {
        msgtype: 'link',
        title: need('title'),
        text: need('text'),
        buttons: [{ title: need('title'), url: need('messageUrl') }],
      };
    case 'sampleActionCard':
      return {
        msgtype: 'actionCard',
        title: need('title'),
        text: need('text'),
        buttons: [{ title: need('singleTitle'), url: need('singleURL') }],
      };
  }
  const n = /^sampleActionCard([2-5])$/.exec(msgKey)?.[1];
  if (n === undefined) throw bad('invalidParameter.msgKey.invalid', `unknown msgKey ${msgKey}`);
  const buttons = Array.from({ length: Number(n) }, (_, i) => ({
    title: need(`actionTitle${i + 1}`),
    url: need(`actionURL${i + 1}`),
  }));
  return { msgtype: 'actionCard', title: need('title'), text: need('text'), buttons };
}

/**
 * The robot send APIs with an app token: `oToMessages/batchSend` (single chats, at most 20 userIds;
 * unknown ones come back in `invalidStaffIdList`) and `groupMessages/send` (a group the bot is in).
 * Messages land in the bot conversations (`BotChats`), readable through the control API.
 */
export async function registerRobotRoutes(
  server: FastifyInstance,
  platform: Platform,
  chats: BotChats,
): Promise<void> {
  await server.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => stampOpenApiReply(request, reply));
    scope.addHook('onRequest', faultHook(platform));
    scope.setErrorHandler((err, request, reply) => {
      const failure =
        err instanceof OpenApiFailure
          ? err
          : new OpenApiFailure(400, OpenApiErrorCode.InvalidParameter, `body: ${(err as Error).message}`);
      return sendFailure(request, reply, failure);
    });

    let seq = 0;
    const queryKey = () => `sandbox-pqk-${Date.now().toString(36)}-${++seq}`;

    scope.post(BATCH_SEND_PATH, async (request) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const clientId = appOf(platform, request, body.robotCode);
      const userIds = body.userIds;
      if (!Array.isArray(userIds) || userIds.length === 0)
        throw bad('invalidParameter.userIds.empty', 'userIds is required');
      if (userIds.length > MAX_BATCH_USERS)
        throw bad('invalidParameter.userIds.overMax', `at most ${MAX_BATCH_USERS} userIds`);
      const line = lineOf(body.msgKey, body.msgParam);
      const invalid: string[] = [];
      for (const id of userIds) {
        if (typeof id !== 'string' || !platform.repos.users.byUserId(id)) {
          invalid.push(String(id));
          continue;
        }
        chats.recordRobotMessage(chats.conversationOf(clientId, 'single', id), 'oToMessages/batchSend', line);
      }
      return {
        processQueryKey: queryKey(),
        invalidStaffIdList: invalid,
        flowControlledStaffIdList: [],
        filteredStaffIdList: [],
      };
    });

    scope.post(GROUP_SEND_PATH, async (request) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const clientId = appOf(platform, request, body.robotCode);
      const conv =
        typeof body.openConversationId === 'string' ? chats.get(body.openConversationId) : undefined;
      if (conv?.kind !== 'group' || conv.clientId !== clientId)
        throw bad('invalidParameter.param.invalid', 'openConversationId is not a group this robot is in');
      chats.recordRobotMessage(conv, 'groupMessages/send', lineOf(body.msgKey, body.msgParam));
      return { processQueryKey: queryKey() };
    });
  });
}
