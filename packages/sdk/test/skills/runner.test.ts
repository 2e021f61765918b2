import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AnySkill,
  type AppApi,
  AuthorizationRequiredError,
  type CredentialResolver,
  defineSkill,
  type GraphRequest,
  type Middleware,
  SkillsApp,
  silentLogger,
  type UserApi,
} from '../../src/internal.js';

type FakeUserApi = { token(): Promise<string> };

const seen: { input?: unknown; token?: string | undefined; user?: unknown } = {};

const echo = defineSkill({
  operationId: 'echo',
  summary: 'Echo',
  description: 'Echoes its input.',
  method: 'GET',
  path: '/v1/actions/echo',
  input: z.object({
    n: z.number().int(),
    flag: z.boolean().optional(),
    tags: z.array(z.string()).optional(),
    q: z.string(),
  }),
  handler: (input, ctx) => {
    seen.input = input;
    seen.user = ctx.user;
    return { ...input, userId: ctx.user.userId, corpId: ctx.corpId };
  },
});

const addCustomer = defineSkill({
  operationId: 'addCustomer',
  summary: 'Add customer',
  description: 'Adds a customer.',
  path: '/v1/actions/customers/{region}',
  input: z.object({
    region: z.string(),
    customName: z.string().min(1),
    ambition: z.enum(['高', '中', '低']),
  }),
  output: z.object({ id: z.string(), region: z.string() }),
  handler: async (input, ctx) => {
    seen.input = input;
    seen.token = await (ctx.userApi as unknown as FakeUserApi).token();
    return { id: `c-${input.customName}`, region: input.region };
  },
});

const boom = defineSkill({
  operationId: 'boom',
  summary: 'Boom',
  description: 'Throws.',
  input: z.object({ kind: z.string() }),
  handler: (input) => {
    if (input.kind === 'string') throw 'a plain string';
    if (input.kind === 'slow') return new Promise<{ ok: boolean }>(() => undefined);
    if (input.kind === 'bad-output') return { wrong: true } as unknown as { ok: boolean };
    if (input.kind === 'auth')
      throw new AuthorizationRequiredError('Forbidden.AccessDenied.AccessTokenPermissionDenied', {
        requiredScopes: ['X'],
      });
    throw new Error('secret internal detail');
  },
  output: z.object({ ok: z.boolean() }).optional(),
  timeoutMs: 50,
});

const needsUser = defineSkill({
  operationId: 'needsUser',
  summary: 'Needs user',
  description: 'Needs a user token.',
  input: z.object({}),
  scopes: ['Contact.User.Read'],
  handler: async (_i, ctx) => ({ token: await (ctx.userApi as unknown as FakeUserApi).token() }),
});

const selfAuth = defineSkill({
  operationId: 'selfAuth',
  summary: 'Self auth',
  description: 'Raises the card itself.',
  input: z.object({}),
  handler: (_i, ctx) =>
    ctx.requireAuthorization('Forbidden.AccessDenied.AccessTokenPermissionDenied', ['Todo.Todo.Read']),
});

const resolver: CredentialResolver = {
  async resolve(input) {
    if (input.accessToken) return { getToken: async () => input.accessToken! };
    if (input.authCode) return { getToken: async () => `from-code-${input.authCode}` };
    return undefined;
  },
};

function makeApp(
  skills: AnySkill[] = [echo, addCustomer, boom, needsUser, selfAuth],
  middleware: Middleware[] = [],
) {
  return new SkillsApp({
    skills,
    logger: silentLogger(),
    credentials: resolver,
    userApiFor: (source) => ({ token: () => source.getToken() }) as unknown as UserApi,
    appApi: {} as AppApi,
    middleware,
  });
}

function graph(method: string, uri: string, body: unknown = {}, headers: Record<string, string> = {}) {
  const req: GraphRequest = {
    requestLine: { method: method as GraphRequest['requestLine']['method'], uri },
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
  return { messageId: 'm-1', data: JSON.stringify(req) };
}

const parseBody = (r: { body: string }) => JSON.parse(r.body);

describe('skills runner over the Graph API envelope', () => {
  it('routes by method + path, decodes the URL-encoded query with the schema types, and strips context params', async () => {
    const res = await makeApp().handleGraph(
      graph(
        'GET',
        '/v1/actions/echo?n=42&flag=true&tags=a&tags=b&q=%E6%9D%AD%E5%B7%9E&userId=zhangsan&corpId=dingcorp&oauthAuthCode=abc',
      ),
    );
    expect(res.statusLine).toEqual({ code: 200, reasonPhrase: 'OK' });
    expect(parseBody(res)).toEqual({
      n: 42,
      flag: true,
      tags: ['a', 'b'],
      q: '杭州',
      userId: 'zhangsan',
      corpId: 'dingcorp',
    });
    expect(seen.input).toEqual({ n: 42, flag: true, tags: ['a', 'b'], q: '杭州' });
  });

  it('treats query names that are Object.prototype members (toString, constructor, __proto__) as plain data', async () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      for (const query of [name, `${name}=1`, `${name}=a&${name}=b`]) {
        const res = await makeApp().handleGraph(graph('GET', `/v1/actions/echo?n=1&q=x&${query}`));
        expect({ query, code: res.statusLine.code }).toEqual({ query, code: 200 });
        expect(seen.input).toEqual({ n: 1, q: 'x' });
        expect(Object.getPrototypeOf(seen.input)).toBe(Object.prototype);
      }
    }
  });

  it('routes by x-ability-key first, takes path parameters from a template, and keeps accessToken out of the input', async () => {
    const res = await makeApp().handleGraph(
      graph(
        'POST',
        '/ignored/path',
        { customName: 'ACME', ambition: '低', accessToken: 'c4b3ecd60a1a308abc6b7fc6f0332d84' },
        { 'x-ability-key': 'addCustomer' },
      ),
    );
    // ability key routes, but the template's {region} comes only from the path: missing here.
    expect(res.statusLine.code).toBe(400);
    expect(parseBody(res).fields).toEqual([{ field: 'region', message: expect.any(String) }]);
    const ok = await makeApp().handleGraph(
      graph('POST', '/v1/actions/customers/east', {
        customName: 'ACME',
        ambition: '低',
        accessToken: 'tok-1',
      }),
    );
    expect(parseBody(ok)).toEqual({ id: 'c-ACME', region: 'east' });
    expect(seen.input).toEqual({ region: 'east', customName: 'ACME', ambition: '低' });
    expect(seen.token).toBe('tok-1');
  });

  it('answers 400 naming every failing field', async () => {
    const res = await makeApp().handleGraph(graph('GET', '/v1/actions/echo?n=1.5&flag=maybe'));
    expect(res.statusLine).toEqual({ code: 400, reasonPhrase: 'BAD REQUEST' });
    const body = parseBody(res);
    expect(body).toMatchObject({ success: false, code: 'InvalidParameter', requestId: 'm-1' });
    expect(body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['flag', 'n', 'q']);
  });

  it('answers 404 for an unknown path or ability key', async () => {
    const res = await makeApp().handleGraph(graph('GET', '/v1/actions/nope'));
    expect(res.statusLine.code).toBe(404);
    expect(parseBody(res)).toMatchObject({
      success: false,
      code: 'NotFound',
      message: 'no skill for GET /v1/actions/nope',
    });
  });

  it('answers 400 with the field for a malformed Graph request (bad %-encoding, body not JSON, no requestLine)', async () => {
    const app = makeApp();
    const badUri = await app.handleGraph(graph('GET', '/v1/actions/echo?q=%E6%9D'));
    expect(badUri.statusLine.code).toBe(400);
    expect(parseBody(badUri).fields[0].field).toBe('data.requestLine.uri');
    const badBody = await app.handleGraph(graph('POST', '/v1/actions/boom', '{not json'));
    expect(parseBody(badBody).fields[0].field).toBe('data.body');
    const noLine = await app.handleGraph({ messageId: 'm-2', data: '{"headers":{}}' });
    expect(noLine.statusLine.code).toBe(400);
    expect(parseBody(noLine)).toMatchObject({ code: 'InvalidParameter', requestId: 'm-2' });
  });

  it('turns a handler throw into 500 with a safe message, including non-Error throws', async () => {
    const app = makeApp();
    for (const kind of ['error', 'string']) {
      const res = await app.handleGraph(graph('POST', '/v1/actions/boom', { kind }));
      expect(res.statusLine.code).toBe(500);
      expect(parseBody(res)).toEqual({
        success: false,
        code: 'InternalError',
        message: 'internal error',
        requestId: 'm-1',
      });
      expect(res.body).not.toContain('secret internal detail');
      expect(res.body).not.toContain('at ');
    }
  });

  it('answers 504 when the handler passes its deadline, and 500 when the output fails its schema', async () => {
    const app = makeApp();
    const slow = await app.handleGraph(graph('POST', '/v1/actions/boom', { kind: 'slow' }));
    expect(slow.statusLine.code).toBe(504);
    expect(parseBody(slow).code).toBe('HandlerTimeout');
    const bad = await app.handleGraph(graph('POST', '/v1/actions/boom', { kind: 'bad-output' }));
    expect(parseBody(bad)).toMatchObject({ code: 'InvalidOutput' });
  });

  it('answers the authorization-card structure: no token for a skill with scopes (400), mapped OpenAPI errors and requireAuthorization (403)', async () => {
    const app = makeApp();
    const none = await app.handleGraph(graph('POST', '/v1/actions/needsUser', {}));
    expect(none.statusLine.code).toBe(400);
    expect(parseBody(none)).toEqual({ success: false, code: 'InvalidAuthentication', requestId: 'm-1' });
    const withCode = await app.handleGraph(graph('POST', '/v1/actions/needsUser?oauthAuthCode=xyz', {}));
    expect(parseBody(withCode)).toEqual({ token: 'from-code-xyz' });
    const mapped = await app.handleGraph(graph('POST', '/v1/actions/boom', { kind: 'auth' }));
    expect(mapped.statusLine.code).toBe(403);
    expect(parseBody(mapped)).toEqual({
      success: false,
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestId: 'm-1',
      requiredScopes: ['X'],
    });
    const self = await app.handleGraph(graph('POST', '/v1/actions/selfAuth', {}));
    expect(self.statusLine.code).toBe(403);
  });

  it('uses x-request-id as the request id when the platform sends one', async () => {
    const res = await makeApp().handleGraph(
      graph('POST', '/v1/actions/needsUser', {}, { 'X-Request-Id': 'req-9' }),
    );
    expect(parseBody(res).requestId).toBe('req-9');
  });
});

describe('skills runner over the legacy AI plugin envelope', () => {
  const plugin = (abilityKey: string, data: unknown) => ({
    messageId: 'm-3',
    data: JSON.stringify({ abilityKey, data, pluginId: 'AI-1', pluginVersion: '1.0.0', requestId: 'r-77' }),
  });

  it('answers {requestId, result} and takes the accessToken out of data', async () => {
    const res = await makeApp().handlePlugin(
      plugin('needsUser', { owner: 'x', accessToken: 'c4b3ecd60a1a308abc6b7fc6f0332d84' }),
    );
    expect(res).toEqual({ requestId: 'r-77', result: { token: 'c4b3ecd60a1a308abc6b7fc6f0332d84' } });
  });

  it('answers {success:false, code, requestId} for the card and for unknown abilities', async () => {
    const app = makeApp();
    expect(await app.handlePlugin(plugin('needsUser', {}))).toEqual({
      success: false,
      code: 'InvalidAuthentication',
      requestId: 'r-77',
    });
    expect(await app.handlePlugin(plugin('nope', {}))).toMatchObject({
      success: false,
      code: 'NotFound',
      requestId: 'r-77',
    });
    expect(await app.handlePlugin({ messageId: 'm-4', data: '{"abilityKey":1}' })).toMatchObject({
      success: false,
      code: 'InvalidParameter',
      requestId: 'm-4',
    });
  });
});

describe('middleware', () => {
  it('runs outermost first around the handler, can read the outcome, and can answer early', async () => {
    const order: string[] = [];
    const app = makeApp(
      [echo],
      [
        async (state, next) => {
          order.push('a-before');
          await next();
          order.push(`a-after:${state.outcome?.kind}`);
        },
        async (state, next) => {
          order.push('b');
          if (state.input.q === 'stop') {
            state.outcome = { kind: 'ok', body: { stopped: true } };
            return;
          }
          await next();
        },
      ],
    );
    const res = await app.handleGraph(graph('GET', '/v1/actions/echo?n=1&q=go'));
    expect(parseBody(res)).toMatchObject({ n: 1, q: 'go' });
    expect(order).toEqual(['a-before', 'b', 'a-after:ok']);
    const stopped = await app.handleGraph(graph('GET', '/v1/actions/echo?n=1&q=stop'));
    expect(parseBody(stopped)).toEqual({ stopped: true });
  });

  it('a middleware throw goes through the error boundary', async () => {
    const app = makeApp([echo], [() => Promise.reject(new Error('mw failed'))]);
    const res = await app.handleGraph(graph('GET', '/v1/actions/echo?n=1&q=x'));
    expect(res.statusLine.code).toBe(500);
  });

  it('a middleware that throws synchronously, or calls next() twice, is answered 500 by the boundary', async () => {
    const sync = makeApp(
      [echo],
      [
        () => {
          throw new Error('sync mw failed');
        },
      ],
    );
    expect((await sync.handleGraph(graph('GET', '/v1/actions/echo?n=1&q=x'))).statusLine.code).toBe(500);
    let secondNext: unknown;
    const twice = makeApp(
      [echo],
      [
        async (_state, next) => {
          await next();
          secondNext = await next().then(
            () => 'resolved',
            (err: Error) => err.message,
          );
          throw new Error('stop here');
        },
      ],
    );
    expect((await twice.handleGraph(graph('GET', '/v1/actions/echo?n=1&q=x'))).statusLine.code).toBe(500);
    expect(secondNext).toBe('next() called more than once in one middleware');
  });

  it("next() never throws: an output schema that throws, or a result whose `then` getter throws, rejects it and the middleware's finally still runs", async () => {
    const throwingOutput = defineSkill({
      operationId: 'throwingOutput',
      summary: 'Throws in its output schema',
      description: 'An output transform that throws.',
      method: 'GET',
      input: z.object({}),
      output: z.object({ a: z.number() }).transform(() => {
        throw new Error('transform failed');
      }),
      handler: () => ({ a: 1 }),
    });
    const badThen = defineSkill({
      operationId: 'badThen',
      summary: 'Returns a hostile thenable',
      description: 'A result whose then getter throws.',
      method: 'GET',
      input: z.object({}),
      handler: () =>
        Object.defineProperty({}, 'then', {
          get() {
            throw new Error('then getter');
          },
        }),
    });
    const finallyRan: string[] = [];
    const app = makeApp(
      [throwingOutput, badThen],
      [(state, next) => next().finally(() => finallyRan.push(state.skill.operationId))],
    );
    for (const op of ['throwingOutput', 'badThen']) {
      const res = await app.handleGraph(graph('GET', `/v1/actions/${op}`));
      expect(res.statusLine.code).toBe(500);
    }
    expect(finallyRan).toEqual(['throwingOutput', 'badThen']);
  });

  it('a synchronous middleware that returns next() runs the handler', async () => {
    const app = makeApp([echo], [(_state, next) => next()]);
    const res = await app.handleGraph(graph('GET', '/v1/actions/echo?n=2&q=s'));
    expect(parseBody(res)).toMatchObject({ n: 2, q: 's' });
  });
});

describe('deadline configuration', () => {
  it('refuses a timeoutMs or skillTimeoutMs that is not a whole number of ms from 1 to 2^31-1, naming it', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1, 2.5, 2 ** 31]) {
      expect(() =>
        defineSkill({
          operationId: 'slow',
          summary: 's',
          description: 'd',
          input: z.object({}),
          timeoutMs: bad,
          handler: () => ({}),
        }),
      ).toThrow(/skill slow: timeoutMs must be a whole number of ms/);
      expect(
        () =>
          new SkillsApp({
            skills: [echo],
            logger: silentLogger(),
            credentials: resolver,
            userApiFor: () => ({}) as UserApi,
            appApi: {} as AppApi,
            skillTimeoutMs: bad,
          }),
      ).toThrow(/skillTimeoutMs must be a whole number of ms/);
    }
  });
});

describe('the skill deadline covers credential resolution', () => {
  /** A resolver whose answer takes `ms` (a refresh waiting on another instance's lock, a slow DingTalk). */
  function slowResolver(ms: number, calls: string[]): CredentialResolver {
    return {
      async resolve() {
        calls.push('resolve');
        await new Promise((r) => setTimeout(r, ms));
        calls.push('resolved');
        return { getToken: async () => 'late-token' };
      },
    };
  }

  it('a credential that outlasts the deadline answers 504 HandlerTimeout in time, and the handler never runs', async () => {
    const calls: string[] = [];
    const scoped = defineSkill({
      operationId: 'scoped',
      summary: 'Scoped',
      description: 'Needs the user.',
      input: z.object({}),
      scopes: ['Contact.User.Read'],
      timeoutMs: 100,
      handler: () => {
        calls.push('handler');
        return { ran: true };
      },
    });
    const app = new SkillsApp({
      skills: [scoped],
      logger: silentLogger(),
      credentials: slowResolver(400, calls),
      userApiFor: () => ({}) as UserApi,
      appApi: {} as AppApi,
    });
    const res = await app.handleGraph(graph('POST', '/v1/actions/scoped', {}, { 'x-ability-key': 'scoped' }));
    // Answered at the deadline (100 ms), while the credential (400 ms) is still on its way.
    expect(calls).toEqual(['resolve']);
    expect(res.statusLine.code).toBe(504);
    expect(parseBody(res)).toMatchObject({ code: 'HandlerTimeout' });
    await new Promise((r) => setTimeout(r, 450));
    expect(calls).toEqual(['resolve', 'resolved']);
  });

  it('the token owner lookup (a handed-over token) is inside the deadline too', async () => {
    const calls: string[] = [];
    const plain = defineSkill({
      operationId: 'plain',
      summary: 'Plain',
      description: 'No scopes.',
      input: z.object({}),
      context: ['unionId'],
      timeoutMs: 100,
      handler: () => {
        calls.push('handler');
        return {};
      },
    });
    const app = new SkillsApp({
      skills: [plain],
      logger: silentLogger(),
      credentials: {
        ...slowResolver(0, calls),
        async identify() {
          await new Promise((r) => setTimeout(r, 400));
          return 'union-1';
        },
      },
      userApiFor: () => ({}) as UserApi,
      appApi: {} as AppApi,
    });
    const res = await app.handlePlugin({
      messageId: 'm-9',
      data: JSON.stringify({
        abilityKey: 'plain',
        requestId: 'r-9',
        pluginId: 'p',
        pluginVersion: '1',
        data: { accessToken: 'handed-over' },
      }),
    });
    expect(res).toMatchObject({ success: false, code: 'HandlerTimeout' });
    await new Promise((r) => setTimeout(r, 450));
    // The lookup finished after the answer; neither the credential nor the handler ran after it.
    expect(calls).toEqual([]);
  });
});

describe('the error boundary and the deadline, attacked', () => {
  it('an error of another library with a throwing toOutcome() is a 500 through onError, never a rejection', async () => {
    class Foreign extends Error {
      toOutcome(): never {
        throw new Error('toOutcome blew up');
      }
    }
    const weird = defineSkill({
      operationId: 'weird',
      summary: 'Weird',
      description: 'Throws a foreign error.',
      input: z.object({}),
      handler: () => {
        throw new Foreign('foreign');
      },
    });
    const seenByHook: string[] = [];
    const app = new SkillsApp({
      skills: [weird],
      logger: silentLogger(),
      credentials: resolver,
      userApiFor: () => ({}) as UserApi,
      appApi: {} as AppApi,
      onError: (err) => {
        seenByHook.push(err.message);
        return undefined;
      },
    });
    const res = await app.handleGraph(graph('POST', '/v1/actions/weird', {}, { 'x-ability-key': 'weird' }));
    expect(res.statusLine.code).toBe(500);
    expect(parseBody(res)).toMatchObject({ code: 'InternalError' });
    expect(seenByHook).toEqual(['foreign']);
  });

  it('a middleware that awaits past the deadline and then calls next() does not run the handler', async () => {
    const ran: string[] = [];
    const quick = defineSkill({
      operationId: 'quick',
      summary: 'Quick',
      description: 'Records that it ran.',
      input: z.object({}),
      timeoutMs: 50,
      handler: () => {
        ran.push('handler');
        return {};
      },
    });
    let nextCalled: Promise<void> | undefined;
    const app = new SkillsApp({
      skills: [quick],
      logger: silentLogger(),
      credentials: resolver,
      userApiFor: () => ({}) as UserApi,
      appApi: {} as AppApi,
      middleware: [
        async (_state, next) => {
          await new Promise((r) => setTimeout(r, 150));
          nextCalled = next().catch(() => undefined);
          await nextCalled;
        },
      ],
    });
    const res = await app.handleGraph(graph('POST', '/v1/actions/quick', {}, { 'x-ability-key': 'quick' }));
    expect(res.statusLine.code).toBe(504);
    await new Promise((r) => setTimeout(r, 200));
    expect(nextCalled).toBeDefined();
    expect(ran).toEqual([]);
  });
});
