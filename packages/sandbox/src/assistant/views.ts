import type { SkillAction, SkillParam } from './openapi-document/types.js';
import type { RegisteredSkills } from './registry.js';

/** A parameter as the page's form and the CLI show it. */
export interface ParamView {
  name: string;
  in: SkillParam['in'];
  required: boolean;
  kind: SkillParam['kind'];
  description?: string;
  enum?: Array<string | number | boolean>;
  items?: SkillParam['kind'];
  default?: unknown;
}

/** An action as `GET /sandbox/skills` lists it. */
export interface ActionView {
  operationId: string;
  summary: string;
  description: string;
  method: string;
  path: string;
  delegatedScopes: string[];
  /** What the user fills in. */
  params: ParamView[];
  /** What the assistant fills in (`x-dingtalk-context`), as `name: property/format`. */
  contextParams: Array<{ name: string; in: SkillParam['in']; property: string; format: string }>;
  responseSchema?: Record<string, unknown>;
}

export interface SkillsView {
  clientId: string;
  appName: string;
  title: string;
  version: string;
  protocol: 'stream' | 'http';
  serverUrl?: string;
  /** Registered as a legacy AI plugin (topic `/v1.0/agi/plugins/callback`). */
  legacyPlugin?: { pluginId: string; pluginVersion: string };
  registeredAt: number;
  actions: ActionView[];
  /** What DingTalk only recommends against (a PascalCase operationId): accepted. */
  warnings?: Array<{ at: string; message: string }>;
}

function paramView(p: SkillParam): ParamView {
  const out: ParamView = { name: p.name, in: p.in, required: p.required, kind: p.kind };
  if (p.description !== undefined) out.description = p.description;
  if (p.enum !== undefined) out.enum = p.enum;
  if (p.items !== undefined) out.items = p.items;
  if (p.default !== undefined) out.default = p.default;
  return out;
}

export function actionView(a: SkillAction): ActionView {
  const out: ActionView = {
    operationId: a.operationId,
    summary: a.summary,
    description: a.description,
    method: a.method,
    path: a.path,
    delegatedScopes: a.delegatedScopes,
    params: a.params.filter((p) => !p.context).map(paramView),
    contextParams: a.params.flatMap((p) => (p.context ? [{ name: p.name, in: p.in, ...p.context }] : [])),
  };
  if (a.responseSchema) out.responseSchema = a.responseSchema;
  return out;
}

export function skillsView(entry: RegisteredSkills, appName: string): SkillsView {
  const { document } = entry;
  const out: SkillsView = {
    clientId: entry.clientId,
    appName,
    title: document.title,
    version: document.version,
    protocol: document.protocol,
    registeredAt: entry.registeredAt,
    actions: document.actions.map(actionView),
  };
  if (document.serverUrl !== undefined) out.serverUrl = document.serverUrl;
  if (entry.legacyPlugin !== undefined) out.legacyPlugin = { ...entry.legacyPlugin };
  if (document.warnings.length > 0) out.warnings = document.warnings;
  return out;
}
