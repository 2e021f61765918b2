import type { LegacyPluginRef } from './callers/plugin.js';
import { AssistantError, AssistantErrorCode } from './errors.js';
import type { SkillAction, SkillsDocument } from './openapi-document/types.js';

/** An app's registered description: its actions and how to reach them. */
export interface RegisteredSkills {
  clientId: string;
  document: SkillsDocument;
  /** Sandbox clock time of the (last) registration. */
  registeredAt: number;
  /** Registered as a legacy AI plugin: called on `/v1.0/agi/plugins/callback` with the ability key. */
  legacyPlugin?: LegacyPluginRef;
}

/** An action found for an invocation, with the app it belongs to. */
export interface FoundAction {
  skills: RegisteredSkills;
  action: SkillAction;
}

/**
 * The actions registered per app (one OpenAPI description per app; registering again replaces it,
 * like saving the description in the developer console).
 */
export class SkillRegistry {
  readonly #byApp = new Map<string, RegisteredSkills>();
  readonly #defaultClientId: string;

  /** @param defaultClientId the app an invocation without a clientId prefers. */
  constructor(defaultClientId: string) {
    this.#defaultClientId = defaultClientId;
  }

  get defaultClientId(): string {
    return this.#defaultClientId;
  }

  register(
    clientId: string,
    document: SkillsDocument,
    now: number,
    legacyPlugin?: LegacyPluginRef,
  ): RegisteredSkills {
    const entry: RegisteredSkills = { clientId, document, registeredAt: now };
    if (legacyPlugin !== undefined) entry.legacyPlugin = legacyPlugin;
    this.#byApp.set(clientId, entry);
    return entry;
  }

  get(clientId: string): RegisteredSkills | undefined {
    return this.#byApp.get(clientId);
  }

  list(): RegisteredSkills[] {
    return [...this.#byApp.values()];
  }

  /**
   * The action with this operationId: in `clientId`'s description when given; otherwise the default
   * app's, else the only app that has it.
   * @throws AssistantError `unknownSkill` (none, or several apps and no clientId to choose).
   */
  find(operationId: string, clientId?: string): FoundAction {
    if (clientId !== undefined) {
      const skills = this.#byApp.get(clientId);
      const action = skills?.document.actions.find((a) => a.operationId === operationId);
      if (skills && action) return { skills, action };
      throw new AssistantError(
        AssistantErrorCode.UnknownSkill,
        skills
          ? `app ${clientId} has no action "${operationId}" (it has: ${names(skills)})`
          : `app ${clientId} has no registered skills (POST its OpenAPI description to /sandbox/skills)`,
        'operationId',
      );
    }
    const matches: FoundAction[] = [];
    for (const skills of this.#byApp.values()) {
      const action = skills.document.actions.find((a) => a.operationId === operationId);
      if (action) matches.push({ skills, action });
    }
    const preferred = matches.find((m) => m.skills.clientId === this.#defaultClientId);
    if (preferred) return preferred;
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1)
      throw new AssistantError(
        AssistantErrorCode.UnknownSkill,
        `several apps have an action "${operationId}" (${matches.map((m) => m.skills.clientId).join(', ')}): pass clientId`,
        'clientId',
      );
    const all = this.list();
    throw new AssistantError(
      AssistantErrorCode.UnknownSkill,
      all.length === 0
        ? `no skills are registered yet (POST an OpenAPI description to /sandbox/skills), so there is no "${operationId}"`
        : `no registered action "${operationId}" (registered: ${all.map(names).join(', ')})`,
      'operationId',
    );
  }
}

function names(skills: RegisteredSkills): string {
  return skills.document.actions.map((a) => a.operationId).join(', ') || 'none';
}
