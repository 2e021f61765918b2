import type { GraphMethod } from '@dingtalk-skills/sdk/protocol';

/** A JSON schema fragment as found in the YAML (OpenAPI 3.0 schema object, `$ref`s resolved). */
export type JsonSchema = Record<string, unknown>;

/** What the assistant fills in itself for a parameter (`x-dingtalk-context`). */
export interface ContextRef {
  /** `currentUser`, `currentOrg`, `currentInput`, `currentConversation`. */
  property: string;
  /** `userId`, `unionId`, `jobNum`, `oauthAuthCode`, `corpId`, `raw`, `openConversationId`, ... */
  format: string;
}

/** The kind of input a form shows for a parameter. */
export type ParamKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'array' | 'object' | 'unknown';

/** One parameter of an action: a query or path parameter, or a property of the JSON request body. */
export interface SkillParam {
  name: string;
  in: 'query' | 'path' | 'body';
  required: boolean;
  description?: string;
  kind: ParamKind;
  /** Allowed values when `kind` is `enum`. */
  enum?: Array<string | number | boolean>;
  /** Element kind when `kind` is `array`. */
  items?: ParamKind;
  default?: unknown;
  /** Set when the assistant fills the value (`x-dingtalk-context`); the user never does. */
  context?: ContextRef;
  schema: JsonSchema;
}

/** Transport of an app's actions: over its Stream connection, or HTTP to `servers[0].url`. */
export type SkillProtocol = 'stream' | 'http';

/** One AI assistant action (an OpenAPI operation) as the assistant uses it. */
export interface SkillAction {
  operationId: string;
  summary: string;
  description: string;
  method: GraphMethod;
  /** Path template, e.g. `/v1/actions/crm/customers/{id}`. */
  path: string;
  /** Every parameter, user inputs and context parameters alike, in declaration order. */
  params: SkillParam[];
  /** `x-dingtalk-delegated-scopes`: the delegated permissions the action needs. */
  delegatedScopes: string[];
  /** True when the operation declares an `application/json` request body. */
  hasBody: boolean;
  /** Schema of the 2xx `application/json` response, if declared. */
  responseSchema?: JsonSchema;
}

/** The result of reading an OpenAPI description: the app's actions and how to reach them. */
export interface SkillsDocument {
  title: string;
  version: string;
  description?: string;
  protocol: SkillProtocol;
  /** `servers[0].url` (required for HTTP). */
  serverUrl?: string;
  actions: SkillAction[];
  /** What DingTalk only recommends against (e.g. a PascalCase operationId): accepted, logged, shown. */
  warnings: SpecProblem[];
}

/** One problem found in a description, with where it is (`paths./v1/x.post.operationId`). */
export interface SpecProblem {
  at: string;
  message: string;
}
