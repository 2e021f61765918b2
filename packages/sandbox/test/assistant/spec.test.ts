import { generateSpecYaml } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crm from '../../../../examples/crm/app.js';
import { parseSkillsYaml, SkillSpecError, type SpecProblem } from '../../src/assistant/index.js';
import { type Harness, http, startHarness, TEST_SPEC_YAML } from './harness.js';

function crmYaml(protocol: 'stream' | 'http' = 'stream', serverUrl?: string): string {
  return generateSpecYaml(crm.skills, {
    title: crm.name,
    protocol,
    ...(serverUrl ? { serverUrl } : {}),
  });
}

function problemsOf(yaml: string): SpecProblem[] {
  try {
    parseSkillsYaml(yaml);
  } catch (err) {
    if (err instanceof SkillSpecError) return err.problems;
    throw err;
  }
  throw new Error('expected the description to be refused');
}

/** A minimal valid Stream description around one operation (YAML, indented under `paths`). */
function withOperation(
  operation: string,
  path = '/v1/actions/x',
  root = 'x-dingtalk-protocol: stream',
): string {
  return `openapi: 3.0.1\ninfo: {title: T, version: 1.0.0}\n${root}\npaths:\n  ${path}:\n${operation}`;
}

describe('reading the description the generator prints', () => {
  it('extracts every CRM action with parameters, scopes, context parameters and response schema', () => {
    const doc = parseSkillsYaml(crmYaml());
    expect(doc.protocol).toBe('stream');
    expect(doc.title).toBe(crm.name);
    expect(doc.actions.map((a) => a.operationId)).toEqual(crm.skills.map((s) => s.operationId));

    const createTodo = doc.actions.find((a) => a.operationId === 'createTodo')!;
    expect(createTodo).toMatchObject({
      method: 'POST',
      path: '/v1/actions/crm/todos',
      delegatedScopes: ['Todo.PersonalTodo.Write'],
      hasBody: true,
      summary: '创建待办 Create a to-do',
    });
    const byName = Object.fromEntries(createTodo.params.map((p) => [p.name, p]));
    expect(byName.subject).toMatchObject({ in: 'body', kind: 'string', required: true });
    expect(byName.dueTime).toMatchObject({ in: 'body', kind: 'integer', required: false });
    expect(byName.oauthAuthCode).toMatchObject({
      in: 'query',
      context: { property: 'currentUser', format: 'oauthAuthCode' },
    });
    expect(byName.corpId?.context).toEqual({ property: 'currentOrg', format: 'corpId' });
    expect(Object.keys((createTodo.responseSchema?.properties ?? {}) as object)).toEqual([
      'taskId',
      'subject',
      'createdTime',
    ]);

    const addCustomer = doc.actions.find((a) => a.operationId === 'addCustomer')!;
    expect(addCustomer.params.find((p) => p.name === 'ambition')).toMatchObject({
      kind: 'enum',
      enum: ['高', '中', '低'],
      required: true,
    });
    const listMyTodos = doc.actions.find((a) => a.operationId === 'listMyTodos')!;
    expect(listMyTodos).toMatchObject({ method: 'GET', hasBody: false });
    expect(listMyTodos.params.find((p) => p.name === 'isDone')).toMatchObject({
      in: 'query',
      kind: 'boolean',
      default: false,
    });
  });

  it('reads the HTTP form: no x-dingtalk-protocol, servers[0].url', () => {
    const doc = parseSkillsYaml(crmYaml('http', 'http://127.0.0.1:9999/skills/'));
    expect(doc.protocol).toBe('http');
    expect(doc.serverUrl).toBe('http://127.0.0.1:9999/skills');
  });

  it('follows local $refs for parameters and body schemas', () => {
    const doc = parseSkillsYaml(`openapi: 3.0.1
info: {title: T}
x-dingtalk-protocol: stream
components:
  parameters:
    Who: {name: userId, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: userId}}}
  schemas:
    Body: {type: object, properties: {name: {$ref: '#/components/schemas/Name'}}, required: [name]}
    Name: {type: string, description: 名字}
paths:
  /v1/greet:
    post:
      summary: Greet
      description: Greets someone.
      operationId: greet
      parameters: [{$ref: '#/components/parameters/Who'}]
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Body'}}}}
`);
    expect(doc.actions[0]!.params.map((p) => `${p.in}:${p.name}:${p.kind}:${p.required}`)).toEqual([
      'query:userId:string:false',
      'body:name:string:true',
    ]);
    expect(doc.actions[0]!.params[1]!.description).toBe('名字');
  });
});

describe('refusing a broken description with the exact problem', () => {
  const op = (body: string) => `    post:\n${body}`;
  const ok = '      summary: Do it\n      description: Does it.\n';

  it.each<[string, string, SpecProblem]>([
    [
      'a missing operationId',
      withOperation(op(ok)),
      {
        at: "paths['/v1/actions/x'].post.operationId",
        message: 'missing: every action needs a unique camelCase operationId',
      },
    ],
    [
      'an operationId that is not camelCase',
      withOperation(op(`${ok}      operationId: Do_it\n`)),
      {
        at: "paths['/v1/actions/x'].post.operationId",
        message: '"Do_it" must be camelCase (letters and digits, starting lower case)',
      },
    ],
    [
      'a missing summary',
      withOperation(op('      description: Does it.\n      operationId: doIt\n')),
      {
        at: "paths['/v1/actions/x'].post.summary",
        message: 'missing: a short verb phrase that names the action',
      },
    ],
    [
      'a nested body field',
      withOperation(
        op(
          `${ok}      operationId: doIt\n      requestBody: {content: {application/json: {schema: {type: object, properties: {owner: {type: object, properties: {id: {type: string}}}}}}}}\n`,
        ),
      ),
      {
        at: "paths['/v1/actions/x'].post.requestBody.content['application/json'].schema.properties.owner",
        message: 'body field "owner" is a nested object: request bodies must be one flat level of an object',
      },
    ],
    [
      'a non-JSON request body',
      withOperation(
        op(
          `${ok}      operationId: doIt\n      requestBody: {content: {text/plain: {schema: {type: string}}}}\n`,
        ),
      ),
      {
        at: "paths['/v1/actions/x'].post.requestBody.content",
        message: 'request bodies must be application/json (found: text/plain)',
      },
    ],
    [
      'a header parameter',
      withOperation(
        op(
          `${ok}      operationId: doIt\n      parameters: [{name: token, in: header, schema: {type: string}}]\n`,
        ),
      ),
      {
        at: "paths['/v1/actions/x'].post.parameters[0].in",
        message: 'parameter "token": in must be query or path (the assistant sends no "header" parameters)',
      },
    ],
    [
      'an unknown x-dingtalk-context',
      withOperation(
        op(
          `${ok}      operationId: doIt\n      parameters: [{name: who, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: email}}}]\n`,
        ),
      ),
      {
        at: "paths['/v1/actions/x'].post.parameters[0].x-dingtalk-context",
        message:
          'parameter "who": unknown context currentUser/email (known: currentUser: userId|unionId|jobNum|oauthAuthCode; currentOrg: corpId; currentInput: raw|attribute; currentConversation: openConversationId|conversationToken|sessionWebhook)',
      },
    ],
    [
      'a parameter named twice',
      withOperation(
        op(
          `${ok}      operationId: doIt\n      parameters: [{name: subject, in: query, schema: {type: string}}]\n      requestBody: {content: {application/json: {schema: {type: object, properties: {subject: {type: string}}}}}}\n`,
        ),
      ),
      { at: "paths['/v1/actions/x'].post", message: 'parameter "subject" appears twice (query and body)' },
    ],
    [
      'a path parameter that is not declared',
      withOperation(op(`${ok}      operationId: doIt\n`), '/v1/customers/{id}'),
      {
        at: "paths['/v1/customers/{id}'].post.parameters",
        message: 'path parameter "id" is in the path but not declared (in: path)',
      },
    ],
    [
      'HTTP actions without a server',
      withOperation(op(`${ok}      operationId: doIt\n`), '/v1/actions/x', ''),
      {
        at: 'servers',
        message: 'HTTP actions need servers[0].url (or set x-dingtalk-protocol: stream at the root)',
      },
    ],
    [
      'an unknown protocol',
      withOperation(op(`${ok}      operationId: doIt\n`), '/v1/actions/x', 'x-dingtalk-protocol: grpc'),
      {
        at: 'x-dingtalk-protocol',
        message:
          'only "stream" is defined (calls over the Stream connection); got "grpc". Remove it for HTTP',
      },
    ],
    [
      'a misspelt method',
      withOperation(`    psot:\n${ok}      operationId: doIt\n`),
      {
        at: "paths['/v1/actions/x'].psot",
        message: 'unknown key "psot" (expected get, post, put, delete or patch)',
      },
    ],
    [
      'a dangling $ref',
      withOperation(
        op(`${ok}      operationId: doIt\n      parameters: [{$ref: '#/components/parameters/Nope'}]\n`),
      ),
      {
        at: "paths['/v1/actions/x'].post.parameters[0]",
        message: '$ref "#/components/parameters/Nope" points to nothing',
      },
    ],
    [
      'a body on a GET',
      withOperation(
        `    get:\n${ok}      operationId: doIt\n      requestBody: {content: {application/json: {schema: {type: object, properties: {a: {type: string}}}}}}\n`,
      ),
      {
        at: "paths['/v1/actions/x'].get.requestBody",
        message: 'GET actions take their input in the query; a request body is not allowed',
      },
    ],
  ])('%s', (_name, yaml, expected) => {
    expect(problemsOf(yaml)).toEqual([expected]);
  });

  it('reports a duplicate operationId with both places', () => {
    const yaml = `openapi: 3.0.1\ninfo: {title: T}\nx-dingtalk-protocol: stream\npaths:\n  /a:\n    get: {summary: A, description: A., operationId: same}\n  /b:\n    get: {summary: B, description: B., operationId: same}\n`;
    expect(problemsOf(yaml)).toEqual([
      { at: "paths['/b'].get", message: `operationId "same" is not unique (also at paths['/a'].get)` },
    ]);
  });

  it('reports YAML syntax errors with line and column, and empty or non-mapping documents', () => {
    expect(problemsOf('openapi: 3.0.1\npaths: [1\ninfo: x\n')).toEqual([
      expect.objectContaining({
        at: 'line 3, column 1',
        message: expect.stringMatching(/^not valid YAML: /),
      }),
    ]);
    expect(problemsOf('   \n')).toEqual([{ at: '(document)', message: 'the document is empty' }]);
    expect(problemsOf('- a\n- b\n')).toEqual([
      { at: '(document)', message: 'expected a mapping (an OpenAPI 3.0 document)' },
    ]);
  });

  it('lists every problem at once, in the error message too', () => {
    const err = (() => {
      try {
        parseSkillsYaml('openapi: 2.0\npaths: {}\n');
      } catch (e) {
        return e as SkillSpecError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.code).toBe('invalidSpec');
    expect(err.problems.map((p) => p.at)).toEqual(['openapi', 'info', 'servers', 'paths']);
    expect(err.message).toContain('  - openapi: expected an OpenAPI 3 version such as "3.0.1", got 2');
  });
});

describe('POST /sandbox/skills and GET /sandbox/skills', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('registers the assistant callback as a login redirect URI of the apps at startup', () => {
    expect(h.platform.repos.apps.get('dingsandboxapp001')!.redirectUris).toEqual(
      expect.arrayContaining(['https://baymax.dingtalk.com/oauth2', `${h.url}/sandbox/assistant/oauth2`]),
    );
  });

  it('registers YAML sent as application/yaml for the default app and lists it', async () => {
    const res = await http<{
      clientId: string;
      protocol: string;
      actions: Array<{ operationId: string; params: unknown[] }>;
    }>(h.url, 'POST', '/sandbox/skills', crmYaml(), { 'content-type': 'application/yaml' });
    expect(res.status).toBe(200);
    expect(res.body.clientId).toBe('dingsandboxapp001');
    expect(res.body.protocol).toBe('stream');
    expect(res.body.actions).toHaveLength(crm.skills.length);
    const listed = await http<{
      skills: Array<{ clientId: string; appName: string; actions: Array<Record<string, unknown>> }>;
    }>(h.url, 'GET', '/sandbox/skills');
    expect(listed.body.skills.map((s) => s.clientId)).toEqual(['dingsandboxapp001']);
    const createTodo = listed.body.skills[0]!.actions.find((a) => a.operationId === 'createTodo')!;
    // The page's form gets the user's parameters; the context ones are listed apart.
    expect((createTodo.params as Array<{ name: string }>).map((p) => p.name)).toEqual([
      'subject',
      'description',
      'dueTime',
    ]);
    expect((createTodo.contextParams as Array<{ name: string }>).map((p) => p.name)).toEqual([
      'userId',
      'unionId',
      'corpId',
      'oauthAuthCode',
    ]);
  });

  it('accepts JSON {yaml, clientId} and text/yaml; registering again replaces the description', async () => {
    const first = await http(h.url, 'POST', '/sandbox/skills', {
      yaml: TEST_SPEC_YAML,
      clientId: 'dingsandboxapp001',
    });
    expect(first.status).toBe(200);
    const second = await http<{ actions: Array<{ operationId: string }> }>(
      h.url,
      'POST',
      '/sandbox/skills?clientId=dingsandboxapp001',
      TEST_SPEC_YAML,
      { 'content-type': 'text/yaml' },
    );
    expect(second.body.actions.map((a) => a.operationId)).toEqual(['createTodo', 'echo']);
    const one = await http<{ actions: unknown[] }>(h.url, 'GET', '/sandbox/skills/dingsandboxapp001');
    expect(one.body.actions).toHaveLength(2);
  });

  it('accepts a PascalCase operationId (DingTalk only recommends camelCase) with a warning in the answer', async () => {
    const yaml = withOperation(
      '    post:\n      summary: Add a customer\n      description: Adds one.\n      operationId: AddCustomer\n',
    );
    expect(parseSkillsYaml(yaml).warnings).toEqual([
      {
        at: "paths['/v1/actions/x'].post.operationId",
        message: '"AddCustomer" is PascalCase: DingTalk recommends camelCase (accepted)',
      },
    ]);
    const res = await http<{ actions: Array<{ operationId: string }>; warnings: unknown[] }>(
      h.url,
      'POST',
      '/sandbox/skills',
      yaml,
      { 'content-type': 'application/yaml' },
    );
    expect(res.status).toBe(200);
    expect(res.body.actions.map((a) => a.operationId)).toEqual(['AddCustomer']);
    expect(res.body.warnings).toHaveLength(1);
    expect(parseSkillsYaml(crmYaml()).warnings).toEqual([]);
  });

  it('answers 400 invalidSpec with the problems, 404 for an unknown app, 400 for a bad JSON body', async () => {
    const bad = await http<{ code: string; problems: SpecProblem[] }>(
      h.url,
      'POST',
      '/sandbox/skills',
      'openapi: 3.0.1\n',
      {
        'content-type': 'application/yaml',
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalidSpec');
    expect(bad.body.problems.map((p) => p.at)).toEqual(['info', 'servers', 'paths']);

    const unknown = await http<{ code: string }>(h.url, 'POST', '/sandbox/skills', {
      yaml: TEST_SPEC_YAML,
      clientId: 'nosuchapp',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('unknownApp');

    const noYaml = await http<{ code: string; field: string }>(h.url, 'POST', '/sandbox/skills', {
      clientId: 'x',
    });
    expect(noYaml.status).toBe(400);
    expect(noYaml.body).toMatchObject({ code: 'invalidParameter', field: 'yaml' });
  });
});
