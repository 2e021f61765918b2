import type { AppDefinition } from '@dingtalk-skills/sdk';
import { checkPlatformRules, SpecRuleError } from '@dingtalk-skills/sdk/internal';
import { AppLoadError } from './exit-codes.js';

/**
 * The one check `spec`, `dev` and `start` run on a loaded app before anything else: every rule DingTalk
 * applies when the skills' OpenAPI description is registered (unique camelCase operationIds, flat
 * inputs, a path with a leading `/` whose `{template}` variables are input fields, ...). Throws an
 * AppLoadError (exit code 4) listing every issue, with the same text for all three commands.
 */
export function validateApp(app: AppDefinition, entry: string): void {
  const issues = checkPlatformRules(app.skills);
  if (issues.length > 0) throw new AppLoadError(`${entry}: ${new SpecRuleError(issues).message}`);
}
