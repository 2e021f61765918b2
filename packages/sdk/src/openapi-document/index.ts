export { generateSpec, generateSpecYaml, type SpecOptions } from './generate.js';
export {
  checkPlatformRules,
  checkPlatformWarnings,
  pathParams,
  type SpecIssue,
  SpecRuleError,
} from './platform-rules.js';
