import { z } from 'zod';

/**
 * A reply a skill posts to its session webhook, in DingTalk's custom-robot `msgtype` form (the form
 * the Python, Go and Java SDKs send): `text`, `markdown`, `actionCard` (one button or `btns`), `link`.
 */
export interface SessionReply {
  msgtype: 'text' | 'markdown' | 'actionCard' | 'link';
  /** markdown / actionCard / link title. */
  title?: string;
  /** The text (markdown source for markdown and actionCard). */
  text: string;
  /** actionCard buttons (`singleTitle`/`singleURL` or `btns[]`), link's `messageUrl`. */
  buttons?: Array<{ title: string; url: string }>;
  picUrl?: string;
  atUserIds?: string[];
  isAtAll?: boolean;
}

const str = (max: number) => z.string().max(max);
const at = z
  .object({
    atUserIds: z.array(str(128)).max(100).optional(),
    atMobiles: z.array(str(32)).max(100).optional(),
    isAtAll: z.boolean().optional(),
  })
  .passthrough()
  .optional();

const body = z.discriminatedUnion('msgtype', [
  z.object({ msgtype: z.literal('text'), text: z.object({ content: str(20_000).min(1) }), at }),
  z.object({
    msgtype: z.literal('markdown'),
    markdown: z.object({ title: str(256).min(1), text: str(20_000).min(1) }),
    at,
  }),
  z.object({
    msgtype: z.literal('actionCard'),
    actionCard: z
      .object({
        title: str(256).min(1),
        text: str(20_000).min(1),
        singleTitle: str(256).optional(),
        singleURL: str(2_048).optional(),
        btnOrientation: z.enum(['0', '1']).optional(),
        btns: z
          .array(z.object({ title: str(256).min(1), actionURL: str(2_048).min(1) }))
          .max(10)
          .optional(),
      })
      .refine(
        (c) => (c.singleTitle !== undefined && c.singleURL !== undefined) || (c.btns?.length ?? 0) > 0,
        {
          message: 'an actionCard needs singleTitle + singleURL, or btns',
        },
      ),
  }),
  z.object({
    msgtype: z.literal('link'),
    link: z.object({
      title: str(256).min(1),
      text: str(20_000).min(1),
      messageUrl: str(2_048).min(1),
      picUrl: str(2_048).optional(),
    }),
  }),
]);

/** Reads a session webhook body; `problem` names what is wrong (unknown msgtype, missing field). */
export function parseSessionReply(
  input: unknown,
): { ok: true; reply: SessionReply } | { ok: false; problem: string } {
  const parsed = body.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    return { ok: false, problem: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  const b = parsed.data;
  const atOf = (a: z.infer<typeof at>) => ({
    ...(a?.atUserIds?.length ? { atUserIds: a.atUserIds } : {}),
    ...(a?.isAtAll ? { isAtAll: true } : {}),
  });
  switch (b.msgtype) {
    case 'text':
      return { ok: true, reply: { msgtype: 'text', text: b.text.content, ...atOf(b.at) } };
    case 'markdown':
      return {
        ok: true,
        reply: { msgtype: 'markdown', title: b.markdown.title, text: b.markdown.text, ...atOf(b.at) },
      };
    case 'actionCard': {
      const c = b.actionCard;
      const buttons =
        c.btns?.map((x) => ({ title: x.title, url: x.actionURL })) ??
        (c.singleTitle !== undefined && c.singleURL !== undefined
          ? [{ title: c.singleTitle, url: c.singleURL }]
          : []);
      return { ok: true, reply: { msgtype: 'actionCard', title: c.title, text: c.text, buttons } };
    }
    case 'link':
      return {
        ok: true,
        reply: {
          msgtype: 'link',
          title: b.link.title,
          text: b.link.text,
          buttons: [{ title: b.link.title, url: b.link.messageUrl }],
          ...(b.link.picUrl !== undefined ? { picUrl: b.link.picUrl } : {}),
        },
      };
  }
}
