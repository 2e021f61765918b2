import type { BotContext, BotMessage } from '@dingtalk-skills/sdk';

/**
 * The interactive card template (互动卡片) of the confirm step: make one in DingTalk's card platform
 * (卡片平台) with the params `title`, `text`, `status` and two buttons whose callbacks carry the action
 * ids `confirm` and `cancel`, and put its id here. The sandbox accepts any id and shows the params, with
 * the buttons of the `actions` param.
 */
export const CONFIRM_CARD_TEMPLATE_ID = 'example-confirm-card.schema';

/**
 * Sends a confirm card to the message's conversation with the app token (`POST
 * /v1.0/card/instances/createAndDeliver`, `callbackType: STREAM`: button presses come back over Stream
 * as `/v1.0/card/instances/callback`, routed to `cardActions` by the `outTrackId` prefix).
 */
export async function sendConfirmCard(
  message: BotMessage,
  ctx: BotContext,
  card: { outTrackId: string; title: string; text: string },
): Promise<void> {
  const group = message.conversation.kind === 'group';
  const robotCode = message.robotCode ?? ctx.appApi.clientId;
  await ctx.appApi.request(
    {
      method: 'POST',
      path: '/v1.0/card/instances/createAndDeliver',
      body: {
        cardTemplateId: CONFIRM_CARD_TEMPLATE_ID,
        outTrackId: card.outTrackId,
        callbackType: 'STREAM',
        userIdType: 1,
        cardData: {
          cardParamMap: {
            title: card.title,
            text: card.text,
            status: 'pending',
            actions: JSON.stringify([
              { id: 'confirm', title: '确认 Confirm' },
              { id: 'cancel', title: '取消 Cancel' },
            ]),
          },
        },
        openSpaceId: group
          ? `dtv1.card//IM_GROUP.${message.conversation.id}`
          : `dtv1.card//IM_ROBOT.${message.sender.staffId}`,
        ...(group
          ? {
              imGroupOpenSpaceModel: { supportForward: false },
              imGroupOpenDeliverModel: { robotCode },
            }
          : {
              imRobotOpenSpaceModel: { supportForward: false },
              imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode },
            }),
      },
      idempotent: true,
    },
    'app',
  );
}
