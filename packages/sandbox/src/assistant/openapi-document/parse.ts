import { GRAPH_METHODS, type GraphMethod, trimTrailingSlashes } from '@dingtalk-skills/sdk/protocol';
import { SkillSpecError } from '../errors.js';
import { readBody, readParameter, readResponse, type SpecCursor, show } from './fields.js';
import { loadYaml } from './load.js';
import { isObject } from './schema-kind.js';
import type { SkillAction, SkillParam, SkillsDocument, SpecProblem } from './types.js';

const CAMEL_CASE = /^[a-z][A-Za-z0-9]*$/;
/** DingTalk recommends camelCase and uses PascalCase in its own examples: accepted with a warning. */
const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/;
const UNSUPPORTED_METHODS = new Set(['head', 'options', 'trace']);
const PATH_ITEM_KEYS = new Set(['parameters', 'summary', 'description', 'servers', '$ref']);
const MAX_REF_HOPS = 16;

/** `paths['/v1/x'].post`: where an operation sits in the document. */
function opAt(path: string, method: string): string {
  return `paths['${path}'].${method}`;
}

/**
 * Reads an OpenAPI 3.0 description of AI assistant actions (the document `dingtalk-skills spec`
 * prints, or one written by hand for another SDK) into the actions the assistant can call.
 *
 * Checks the rules DingTalk applies to such descriptions (summary, description and a unique camelCase
 * operationId per action; query/path parameters and one flat level of JSON body; no parameter named
 * twice; known `x-dingtalk-context` pairs) and how the calls travel (`x-dingtalk-protocol: stream`, else
 * HTTP to `servers[0].url`). Local `$ref`s (`#/components/...`) are followed.
 *
 * @throws SkillSpecError listing every problem, each with where it is (`paths['/v1/x'].post.operationId`).
 */
export function parseSkillsYaml(text: string): SkillsDocument {
  return new SpecReader().read(text);
}

class SpecReader implements SpecCursor {
  readonly problems: SpecProblem[] = [];
  readonly warnings: SpecProblem[] = [];
  #root: Record<string, unknown> = {};

  problem(at: string, message: string): void {
    this.problems.push({ at, message });
  }

  read(text: string): SkillsDocument {
    if (text.trim() === '')
      throw new SkillSpecError([{ at: '(document)', message: 'the document is empty' }]);
    const root = loadYaml(text);
    if (!isObject(root))
      throw new SkillSpecError([
        { at: '(document)', message: 'expected a mapping (an OpenAPI 3.0 document)' },
      ]);
    this.#root = root;
    const result = this.#document(root);
    if (this.problems.length > 0) throw new SkillSpecError(this.problems);
    return result;
  }

  #document(root: Record<string, unknown>): SkillsDocument {
    if (typeof root.openapi !== 'string' || !root.openapi.startsWith('3.'))
      this.problem('openapi', `expected an OpenAPI 3 version such as "3.0.1", got ${show(root.openapi)}`);
    const info = isObject(root.info) ? root.info : undefined;
    if (!info) this.problem('info', 'missing: expected {title, version}');
    else if (typeof info.title !== 'string' || info.title.trim() === '')
      this.problem('info.title', 'missing: the app title');

    const protocolValue = root['x-dingtalk-protocol'];
    let protocol: SkillsDocument['protocol'] = 'http';
    if (protocolValue === 'stream') protocol = 'stream';
    else if (protocolValue !== undefined) {
      protocol = 'stream'; // unknown: judge nothing else about the transport
      this.problem(
        'x-dingtalk-protocol',
        `only "stream" is defined (calls over the Stream connection); got ${show(protocolValue)}. Remove it for HTTP`,
      );
    }
    let serverUrl: string | undefined;
    const servers = root.servers;
    if (Array.isArray(servers) && isObject(servers[0]) && typeof servers[0].url === 'string')
      serverUrl = servers[0].url;
    if (protocol === 'http') {
      if (serverUrl === undefined)
        this.problem(
          'servers',
          'HTTP actions need servers[0].url (or set x-dingtalk-protocol: stream at the root)',
        );
      else if (!/^https?:\/\/[^/\s]+/.test(serverUrl))
        this.problem('servers[0].url', `expected an absolute http(s) URL, got ${show(serverUrl)}`);
    }

    const actions: SkillAction[] = [];
    const paths = root.paths;
    if (!isObject(paths) || Object.keys(paths).length === 0)
      this.problem('paths', 'missing or empty: no actions are described');
    else
      for (const [path, item] of Object.entries(paths))
        actions.push(...this.#pathItem(path, this.deref(item, `paths['${path}']`)));

    const seen = new Map<string, string>();
    for (const a of actions) {
      const prev = seen.get(a.operationId);
      if (prev !== undefined)
        this.problem(
          opAt(a.path, a.method.toLowerCase()),
          `operationId "${a.operationId}" is not unique (also at ${prev})`,
        );
      else seen.set(a.operationId, opAt(a.path, a.method.toLowerCase()));
    }

    const out: SkillsDocument = {
      title: typeof info?.title === 'string' ? info.title : '',
      version: typeof info?.version === 'string' ? info.version : '1.0.0',
      protocol,
      actions,
      warnings: this.warnings,
    };
    if (typeof info?.description === 'string') out.description = info.description;
    if (serverUrl !== undefined) out.serverUrl = trimTrailingSlashes(serverUrl);
    return out;
  }

  #pathItem(path: string, item: unknown): SkillAction[] {
    const at = `paths['${path}']`;
    if (!path.startsWith('/')) {
      this.problem(at, 'a path must start with "/"');
      return [];
    }
    if (item === undefined) return []; // a broken $ref, already reported
    if (!isObject(item)) {
      this.problem(at, 'expected a mapping of methods to operations');
      return [];
    }
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    const actions: SkillAction[] = [];
    for (const [key, value] of Object.entries(item)) {
      const method = key.toUpperCase();
      if ((GRAPH_METHODS as readonly string[]).includes(method)) {
        const action = this.#operation(
          path,
          key,
          method as GraphMethod,
          this.deref(value, `${at}.${key}`),
          shared,
        );
        if (action) actions.push(action);
      } else if (UNSUPPORTED_METHODS.has(key))
        this.problem(
          `${at}.${key}`,
          `method ${method} is not supported (use GET, POST, PUT, DELETE or PATCH)`,
        );
      else if (!PATH_ITEM_KEYS.has(key) && !key.startsWith('x-'))
        this.problem(`${at}.${key}`, `unknown key "${key}" (expected get, post, put, delete or patch)`);
    }
    return actions;
  }

  #operation(
    path: string,
    key: string,
    method: GraphMethod,
    op: unknown,
    shared: unknown[],
  ): SkillAction | undefined {
    const at = opAt(path, key);
    if (op === undefined) return undefined; // a broken $ref, already reported
    if (!isObject(op)) {
      this.problem(at, 'expected an operation object');
      return undefined;
    }
    const before = this.problems.length;
    const operationId = typeof op.operationId === 'string' ? op.operationId : '';
    if (operationId === '')
      this.problem(`${at}.operationId`, 'missing: every action needs a unique camelCase operationId');
    else if (PASCAL_CASE.test(operationId))
      this.warnings.push({
        at: `${at}.operationId`,
        message: `"${operationId}" is PascalCase: DingTalk recommends camelCase (accepted)`,
      });
    else if (!CAMEL_CASE.test(operationId))
      this.problem(
        `${at}.operationId`,
        `"${operationId}" must be camelCase (letters and digits, starting lower case)`,
      );
    const summary = typeof op.summary === 'string' ? op.summary.trim() : '';
    if (summary === '') this.problem(`${at}.summary`, 'missing: a short verb phrase that names the action');
    const description = typeof op.description === 'string' ? op.description.trim() : '';
    if (description === '')
      this.problem(`${at}.description`, 'missing: what the action does and when to use it');

    const delegatedScopes = this.#scopes(
      op['x-dingtalk-delegated-scopes'],
      `${at}.x-dingtalk-delegated-scopes`,
    );
    const params = this.#parameters(path, at, shared, op.parameters);
    let hasBody = false;
    if (op.requestBody !== undefined) {
      if (method === 'GET' || method === 'DELETE')
        this.problem(
          `${at}.requestBody`,
          `${method} actions take their input in the query; a request body is not allowed`,
        );
      else {
        hasBody = true;
        params.push(...readBody(this, `${at}.requestBody`, this.deref(op.requestBody, `${at}.requestBody`)));
      }
    }
    this.#noDuplicates(at, params);
    const responseSchema = readResponse(this, `${at}.responses`, op.responses);
    if (this.problems.length > before) return undefined;
    const action: SkillAction = {
      operationId,
      summary,
      description,
      method,
      path,
      params,
      delegatedScopes,
      hasBody,
    };
    if (responseSchema) action.responseSchema = responseSchema;
    return action;
  }

  #scopes(value: unknown, at: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s.trim() !== '')) {
      this.problem(at, 'expected a list of permission codes, e.g. [Contact.User.Read]');
      return [];
    }
    return [...new Set(value.map((s: string) => s.trim()))];
  }

  #parameters(path: string, at: string, shared: unknown[], own: unknown): SkillParam[] {
    if (own !== undefined && !Array.isArray(own)) {
      this.problem(`${at}.parameters`, 'expected a list');
      return [];
    }
    const ownList = (own ?? []) as unknown[];
    const byKey = new Map<string, SkillParam>();
    const read = (list: unknown[], where: string) => {
      list.forEach((raw, i) => {
        const p = readParameter(this, `${where}[${i}]`, this.deref(raw, `${where}[${i}]`));
        if (p) byKey.set(`${p.in}:${p.name}`, p);
      });
    };
    read(shared, `paths['${path}'].parameters`);
    read(ownList, `${at}.parameters`);
    const params = [...byKey.values()];
    const templated = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
    for (const name of templated)
      if (!params.some((p) => p.in === 'path' && p.name === name))
        this.problem(
          `${at}.parameters`,
          `path parameter "${name}" is in the path but not declared (in: path)`,
        );
    for (const p of params)
      if (p.in === 'path' && !templated.includes(p.name))
        this.problem(`${at}.parameters`, `path parameter "${p.name}" does not appear in the path ${path}`);
    return params;
  }

  #noDuplicates(at: string, params: SkillParam[]): void {
    const seen = new Map<string, string>();
    for (const p of params) {
      const prev = seen.get(p.name);
      if (prev !== undefined) this.problem(at, `parameter "${p.name}" appears twice (${prev} and ${p.in})`);
      else seen.set(p.name, p.in);
    }
  }

  /** Follows local `$ref`s (`#/components/...`); reports refs that go nowhere. */
  deref(value: unknown, at: string): unknown {
    let current = value;
    for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref;
      if (hops >= MAX_REF_HOPS) {
        this.problem(at, `$ref chain too long or circular at ${ref}`);
        return undefined;
      }
      if (!ref.startsWith('#/')) {
        this.problem(at, `$ref "${ref}": only references inside this document (#/...) are supported`);
        return undefined;
      }
      let target: unknown = this.#root;
      for (const raw of ref.slice(2).split('/')) {
        const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        target = isObject(target) && Object.hasOwn(target, part) ? target[part] : undefined;
      }
      if (target === undefined) {
        this.problem(at, `$ref "${ref}" points to nothing`);
        return undefined;
      }
      current = target;
    }
    return current;
  }
}
