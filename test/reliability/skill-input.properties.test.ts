/**
 * Property-based tests of skill input decoding: query strings and bodies, as the Graph API and legacy
 * plugin receivers hand them to the runner. For any input the skills app answers (never throws), and
 * accepts exactly what the skill's own zod schema accepts, with the values it would produce: typed
 * query values, context parameters and tokens kept out of the input, every failing field named.
 */
import { type AppApi, defineSkill, silentLogger, type UserApi } from '@dingtalk-skills/sdk';
import { type CredentialResolver, SkillsApp } from '@dingtalk-skills/sdk/internal';
import type { GraphRequest, GraphResponse } from '@dingtalk-skills/sdk/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const seen: { input?: unknown; token?: string | undefined } = {};

const queryInput = z.object({
  s: z.string(),
  n: z.number(),
  b: z.boolean(),
  tags: z.array(z.string()).optional(),
  ints: z.array(z.number().int()).optional(),
});
const search = defineSkill({
  operationId: 'search',
  summary: 'Search',
  description: 'Echoes its query input.',
  method: 'GET',
  path: '/v1/actions/search',
  input: queryInput,
  handler: (input) => {
    seen.input = input;
    return input;
  },
});

const bodyInput = z.object({
  subject: z.string().min(1).max(50),
  priority: z.number().int().min(0).max(40).optional(),
  tags: z.array(z.string().max(10)).max(3).optional(),
});
const create = defineSkill({
  operationId: 'create',
  summary: 'Create',
  description: 'Echoes its body input; asks for the user token (which the resolver records).',
  path: '/v1/actions/items',
  abilityKey: 'create',
  input: bodyInput,
  handler: async (input, ctx) => {
    seen.input = input;
    await (ctx.userApi as unknown as { token(): Promise<string> }).token().catch(() => undefined);
    return { ...input };
  },
});

/** Records the token the runner hands over as the user's credential. */
const resolver: CredentialResolver = {
  async resolve(input) {
    seen.token = input.accessToken;
    if (input.accessToken) return { getToken: async () => input.accessToken! };
    return undefined;
  },
};

const app = new SkillsApp({
  skills: [search, create],
  logger: silentLogger(),
  credentials: resolver,
  userApiFor: (source) => ({ token: () => source.getToken() }) as unknown as UserApi,
  appApi: {} as AppApi,
});

const CONTEXT_KEYS = ['userId', 'unionId', 'corpId', 'oauthAuthCode', 'jobNum'] as const;

async function graph(method: string, uri: string, body: string): Promise<{ status: number; body: unknown }> {
  const req: GraphRequest = {
    requestLine: { method: method as GraphRequest['requestLine']['method'], uri },
    headers: { 'content-type': 'application/json', 'x-request-id': 'rq' },
    body,
  };
  const res: GraphResponse = await app.handleGraph({ messageId: 'm-1', data: JSON.stringify(req) });
  return { status: res.statusLine.code, body: JSON.parse(res.body) as unknown };
}

/** The failing fields zod names for `value` (what the 400 answer must list). */
function zodFields(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success
    ? []
    : r.error.issues.map((i) => (i.path.length ? i.path.map(String).join('.') : '(input)'));
}

/** Well-formed Unicode text (a real URI cannot carry lone surrogates). */
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0));

describe('query strings (GET)', () => {
  it('typed values round-trip through the URI: numbers, booleans, repeated names as arrays; context keys and tokens stay out', async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        finite,
        fc.boolean(),
        fc.option(fc.array(text, { minLength: 2, maxLength: 4 }), { nil: undefined }),
        fc.option(fc.array(fc.integer(), { minLength: 2, maxLength: 4 }), { nil: undefined }),
        fc.subarray([...CONTEXT_KEYS, 'accessToken']),
        async (s, n, b, tags, ints, extras) => {
          const q = new URLSearchParams({ s, n: String(n), b: String(b) });
          for (const t of tags ?? []) q.append('tags', t);
          for (const i of ints ?? []) q.append('ints', String(i));
          for (const key of extras) q.append(key, `ctx-${key}`);
          seen.input = undefined;
          const res = await graph('GET', `/v1/actions/search?${q}`, '');
          const expected = { s, n, b, ...(tags ? { tags } : {}), ...(ints ? { ints } : {}) };
          expect(res).toEqual({ status: 200, body: expected });
          expect(seen.input).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('one comma-separated value is an array too; an empty value is an empty array', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 5 }), async (ints) => {
        const res = await graph('GET', `/v1/actions/search?s=x&n=1&b=true&ints=${ints.join(',')}`, '');
        expect(res).toEqual({ status: 200, body: { s: 'x', n: 1, b: true, ints } });
      }),
      { numRuns: 100 },
    );
  });

  it('arbitrary raw query strings: 200 with what the schema makes of them, or 400 naming the URI or every failing field', async () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(
          fc.tuple(
            fc.constantFrom(
              's',
              'n',
              'b',
              'tags',
              'ints',
              'x',
              'userId',
              'toString',
              '__proto__',
              'constructor',
            ),
            fc.string({ maxLength: 8 }),
          ),
          { maxLength: 6 },
        )
        .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')),
      fc.constantFrom('s=%', 'n=%zz', 's=a&n=1&b=maybe', 'n=1e400&s=&b=1', 's=%E0%A4%A&n=1&b=0'),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (query) => {
        const res = await graph('GET', `/v1/actions/search?${query}`, '');
        const body = res.body as { code?: string; fields?: { field: string }[] };
        if (res.status === 200) {
          expect(queryInput.safeParse(res.body).success).toBe(true);
          return;
        }
        expect(res.status).toBe(400);
        expect(body.code).toBe('InvalidParameter');
        const fields = (body.fields ?? []).map((f) => f.field);
        expect(fields.length).toBeGreaterThan(0);
        // Either the URI could not be decoded, or the fields are the schema's own.
        if (fields[0] !== 'data.requestLine.uri')
          for (const f of fields)
            expect(['s', 'n', 'b', 'tags', 'ints'].some((k) => f === k || f.startsWith(`${k}.`))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

/** A field that is mostly valid for the schema, sometimes any kind of value, sometimes absent. */
const bodyValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.integer({ min: -5, max: 60 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }),
);
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: bodyValue }), {
    nil: undefined,
    freq: 3,
  });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** Bodies with the schema's keys, extra keys, context keys and a token; undefined keys left out. */
const bodyObject = fc
  .record({
    subject: field(fc.string({ minLength: 1, maxLength: 50 })),
    priority: field(fc.integer({ min: 0, max: 40 })),
    tags: field(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 })),
    extra: optional(fc.jsonValue({ maxDepth: 1 })),
    userId: optional(fc.string({ minLength: 1, maxLength: 8 })),
    accessToken: optional(fc.string({ minLength: 1, maxLength: 32 })),
  })
  // What the wire can carry: JSON has no -0, NaN or Infinity (they arrive as 0 and null).
  .map(
    (b) =>
      JSON.parse(
        JSON.stringify(Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined))),
      ) as Partial<typeof b>,
  );

describe('bodies (POST, Graph and legacy plugin)', () => {
  it('the runner accepts exactly what the schema accepts, with the schema’s output; 400 names exactly the failing fields', async () => {
    await fc.assert(
      fc.asyncProperty(bodyObject, async (body) => {
        const { accessToken, userId: _userId, ...input } = body;
        seen.input = undefined;
        seen.token = undefined;
        const res = await graph('POST', '/v1/actions/items', JSON.stringify(body));
        const expected = bodyInput.safeParse(input);
        if (expected.success) {
          expect(res).toEqual({ status: 200, body: expected.data });
          expect(seen.input).toEqual(expected.data);
          // A token in the body is the user's credential, never part of the input.
          expect(seen.token).toBe(accessToken);
          return;
        }
        expect(seen.input).toBeUndefined();
        expect(res.status).toBe(400);
        const fields = ((res.body as { fields: { field: string }[] }).fields ?? []).map((f) => f.field);
        expect(fields).toEqual(zodFields(bodyInput, input));
      }),
      { numRuns: 500 },
    );
  });

  it('the same over the legacy plugin topic: {requestId, result}, or the failure structure naming the fields', async () => {
    await fc.assert(
      fc.asyncProperty(bodyObject, fc.string({ minLength: 1, maxLength: 16 }), async (data, requestId) => {
        const { accessToken, userId: _userId, ...input } = data;
        const answer = (await app.handlePlugin({
          messageId: 'm-2',
          data: JSON.stringify({ abilityKey: 'create', data, pluginId: 'p', pluginVersion: '1', requestId }),
        })) as Record<string, unknown>;
        const expected = bodyInput.safeParse(input);
        if (expected.success) expect(answer).toEqual({ requestId, result: expected.data });
        else {
          expect(answer).toMatchObject({ success: false, code: 'InvalidParameter', requestId });
          expect((answer.fields as { field: string }[]).map((f) => f.field)).toEqual(
            zodFields(bodyInput, input),
          );
        }
        expect(JSON.stringify(answer)).not.toContain(`"accessToken"`);
        if (accessToken !== undefined && accessToken.length > 8)
          expect(JSON.stringify(answer)).not.toContain(accessToken);
      }),
      { numRuns: 300 },
    );
  });

  it('any body text: a JSON object is decoded, anything else is 400 naming data.body; never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 2 })), async (body) => {
        const res = await graph('POST', '/v1/actions/items', body);
        let parsed: unknown;
        let isJson = true;
        try {
          parsed = JSON.parse(body);
        } catch {
          isJson = false;
        }
        const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        if (body.trim() !== '' && !(isJson && isObject)) {
          expect(res.status).toBe(400);
          expect((res.body as { fields: { field: string }[] }).fields).toEqual([
            { field: 'data.body', message: isJson ? 'expected a JSON object' : 'expected valid JSON text' },
          ]);
        } else expect([200, 400]).toContain(res.status);
      }),
      { numRuns: 400 },
    );
  });
});
