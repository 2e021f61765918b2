/**
 * The adapter `reply.stream()` calls (`aiCardStreamer`): a bot message's conversation becomes the
 * card's target (the sender's single chat by staffId, or the group), the stream's methods are async, and
 * the fallback gets the conversation. Over the wire against the sandbox's card APIs.
 */
import type { Sandbox } from '@dingtalk-skills/sandbox';
import {
  type AiCardStreamerTarget,
  AiCards,
  aiCardStreamer,
  type CardFallback,
  clipMarkdown,
  FlowStatus,
  type OpenApiClient,
} from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardOf, control, seedClient, startCardSandbox } from './support.js';

let sandbox: Sandbox;
let client: OpenApiClient;
let cards: AiCards;

const message = (over: Partial<AiCardStreamerTarget> = {}): AiCardStreamerTarget => ({
  conversationId: 'cidSingleZhangsan',
  conversationKind: 'single',
  senderStaffId: 'zhangsan',
  senderId: '$:LWCP_v1:$abc',
  robotCode: 'dingsandboxapp001',
  msgId: 'msg-1',
  ...over,
});

beforeAll(async () => {
  sandbox = await startCardSandbox();
  client = seedClient(sandbox);
  cards = new AiCards({ openapi: client, intervalMs: 50, finishTimeoutMs: 3000 });
});
afterAll(async () => {
  await cards.close();
  await client.close();
  await sandbox.close();
});

describe('aiCardStreamer (what reply.stream() calls)', () => {
  it("streams into the sender's single chat, and into the group for a group message", async () => {
    const streamer = aiCardStreamer(cards, client);
    const single = await streamer.start(message());
    await single.append('你好 ');
    await single.append('张三');
    await single.finish();
    const a = await cardOf(sandbox, single.outTrackId);
    expect(a).toMatchObject({ text: '你好 张三', flowStatus: FlowStatus.Finished });
    expect(a.spaces[0]).toMatchObject({ spaceType: 'IM_ROBOT', id: 'zhangsan' });

    const group = await streamer.start(message({ conversationKind: 'group', conversationId: 'cidGroup42' }));
    await group.append('大家好');
    await group.fail(new Error('model crashed'));
    const b = await cardOf(sandbox, group.outTrackId);
    expect(b.spaces[0]).toMatchObject({ spaceType: 'IM_GROUP', id: 'cidGroup42' });
    expect(b.flowStatus).toBe(FlowStatus.Failed);
    expect(b.text).not.toContain('model crashed'); // the error is logged, never shown
  });

  it('a single-chat message without senderStaffId is refused with a coded error', async () => {
    const streamer = aiCardStreamer(cards, client);
    const { senderStaffId: _, ...noStaff } = message();
    await expect(streamer.start(noStaff)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('the fallback option gets the conversation and the full text when the card fails', async () => {
    const got: Array<{ target: AiCardStreamerTarget; f: CardFallback }> = [];
    const streamer = aiCardStreamer(cards, client, {
      fallback: async (target, f) => void got.push({ target, f }),
    });
    await control(sandbox, 'POST', '/sandbox/faults/openapi', {
      path: '/v1.0/card',
      mode: 'status',
      status: 503,
    });
    try {
      const s = await streamer.start(message({ msgId: 'msg-2' }));
      await s.append('备用 fallback text');
      await s.finish();
    } finally {
      await control(sandbox, 'POST', '/sandbox/faults/openapi', { mode: 'none' });
    }
    expect(got).toHaveLength(1);
    expect(got[0]?.target.msgId).toBe('msg-2');
    expect(got[0]?.f.text).toBe('备用 fallback text');
  });

  it('clipMarkdown keeps a fallback under the robot APIs 15 000-byte msgParam', () => {
    const long = '长'.repeat(20_000);
    const clipped = clipMarkdown('AI 回复', long);
    expect(Buffer.byteLength(JSON.stringify(clipped))).toBeLessThanOrEqual(15_000);
    expect(clipped.text).toMatch(/truncated）$/);
    expect(clipMarkdown('t', 'short').text).toBe('short');
  });
});
