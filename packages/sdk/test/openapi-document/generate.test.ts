import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import crm from '../../../../examples/crm/app.js';
import {
  checkPlatformWarnings,
  defineSkill,
  generateSpec,
  generateSpecYaml,
  SpecRuleError,
} from '../../src/internal.js';

const ok = (extra: Partial<Parameters<typeof defineSkill>[0]> = {}) =>
  defineSkill({
    operationId: 'createTodo',
    summary: 'Create a to-do',
    description: 'Creates a to-do.',
    input: z.object({ subject: z.string() }),
    handler: () => ({}),
    ...extra,
  });

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecRuleError) return err.issues.map((i) => `${i.operationId}: ${i.message}`);
    throw err;
  }
  throw new Error('expected SpecRuleError');
}

describe('spec generation', () => {
  it('produces a valid OpenAPI 3.0 document for the example app', async () => {
    const yaml = generateSpecYaml(crm.skills, { title: crm.name });
    const doc = parse(yaml);
    const result = await new Validator().validate(doc);
    expect(result).toEqual({ valid: true });
    expect(doc['x-dingtalk-protocol']).toBe('stream');
    expect(Object.keys(doc.paths)).toContain('/v1/actions/crm/todos');
  });

  it('writes scopes, context parameters, query parameters and bodies the platform expects', () => {
    const doc = generateSpec(crm.skills, { title: 'CRM' }) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const create = doc.paths['/v1/actions/crm/todos']!.post!;
    expect(create.operationId).toBe('createTodo');
    expect(create['x-dingtalk-delegated-scopes']).toEqual(['Todo.PersonalTodo.Write']);
    const params = create.parameters as { name: string; in: string; schema: Record<string, unknown> }[];
    expect(params.map((p) => p.name)).toEqual(['userId', 'unionId', 'corpId', 'oauthAuthCode']);
    expect(params.find((p) => p.name === 'oauthAuthCode')!.schema['x-dingtalk-context']).toEqual({
      property: 'currentUser',
      format: 'oauthAuthCode',
    });
    const body = (create.requestBody as { content: Record<string, { schema: { required: string[] } }> })
      .content['application/json']!.schema;
    expect(body.required).toEqual(['subject']);
    const list = doc.paths['/v1/actions/crm/todos']!.get!;
    const listParams = list.parameters as { name: string; in: string; schema: { type: string } }[];
    expect(listParams[0]).toMatchObject({ name: 'isDone', in: 'query', schema: { type: 'boolean' } });
    expect(list.requestBody).toBeUndefined();
  });

  it('omits x-dingtalk-protocol for HTTP actions and names the server', () => {
    const doc = generateSpec([ok()], { title: 'T', protocol: 'http', serverUrl: 'https://crm.example.com' });
    expect(doc['x-dingtalk-protocol']).toBeUndefined();
    expect(doc.servers).toEqual([{ url: 'https://crm.example.com' }]);
  });

  it('refuses a missing summary, description or operationId', () => {
    const issues = issuesOf(() =>
      generateSpec(
        [
          ok({ summary: '' }),
          ok({ operationId: 'b', description: ' ', path: '/b' }),
          ok({ operationId: '', path: '/c' }),
        ],
        {
          title: 'T',
        },
      ),
    );
    expect(issues).toContain('createTodo: summary is missing (a short verb phrase)');
    expect(issues).toContain('b: description is missing');
    expect(issues).toContain(': operationId is missing');
  });

  it('refuses operationIds that are not camelCase or not unique', () => {
    const issues = issuesOf(() =>
      generateSpec([ok({ operationId: 'Create_todo' }), ok({ path: '/x' }), ok({ path: '/y' })], {
        title: 'T',
      }),
    );
    expect(issues.some((i) => i.includes('must be camelCase'))).toBe(true);
    expect(issues).toContain('createTodo: operationId is not unique');
  });

  it('accepts a PascalCase operationId (DingTalk only recommends camelCase) and tells onWarning', () => {
    const warnings: string[] = [];
    const doc = generateSpec([ok({ operationId: 'CreateTodo' })], {
      title: 'T',
      onWarning: (issue) => warnings.push(`${issue.operationId}: ${issue.message}`),
    }) as { paths: Record<string, Record<string, { operationId: string }>> };
    expect(Object.values(doc.paths)[0]?.post?.operationId).toBe('CreateTodo');
    expect(warnings).toEqual([
      'CreateTodo: operationId "CreateTodo" is PascalCase: DingTalk recommends camelCase (accepted)',
    ]);
    expect(checkPlatformWarnings([ok()])).toEqual([]);
  });

  it('puts a path template field in the path once, and refuses a parameter named twice', () => {
    const doc = generateSpec([ok({ method: 'GET', path: '/items/{subject}', context: [] })], {
      title: 'T',
    }) as {
      paths: Record<string, { get: { parameters: { name: string; in: string }[] } }>;
    };
    expect(doc.paths['/items/{subject}']!.get.parameters).toEqual([
      expect.objectContaining({ name: 'subject', in: 'path', required: true }),
    ]);
    const issues = issuesOf(() =>
      generateSpec(
        [ok({ operationId: 'dup', path: '/d/{userId}', context: ['userId'], input: z.object({}) })],
        {
          title: 'T',
        },
      ),
    );
    expect(issues).toContain('dup: parameter "userId" appears twice (path and context)');
  });

  it('refuses a path without a leading "/" and a path template variable that is not an input field', () => {
    const issues = issuesOf(() =>
      generateSpec(
        [
          ok({ path: 'v1/todos' }),
          ok({ operationId: 'getTicket', method: 'GET', path: '/v1/tickets/{id}', input: z.object({}) }),
        ],
        { title: 'T' },
      ),
    );
    expect(issues).toEqual([
      'createTodo: path "v1/todos" must start with "/"',
      'getTicket: path parameter "{id}" of /v1/tickets/{id} is not a field of input: add id to the input object',
    ]);
  });

  it('refuses nested objects in a POST body and objects in a query', () => {
    const issues = issuesOf(() =>
      generateSpec(
        [
          ok({ input: z.object({ address: z.object({ city: z.string() }) }) }),
          ok({
            operationId: 'q',
            method: 'GET',
            path: '/q',
            input: z.object({ filter: z.object({ a: z.string() }) }),
          }),
        ],
        { title: 'T' },
      ),
    );
    expect(issues).toContain(
      'createTodo: body field "address" is a nested object: POST bodies must be one flat level of an object',
    );
    expect(issues).toContain(
      'q: query parameter "filter" must be a scalar or an array of scalars (got object)',
    );
  });
});
