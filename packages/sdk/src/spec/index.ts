export { generateSpec, generateSpecYaml, type SpecOptions } from './generate.js';
export { checkPlatformRules, pathParams, type SpecIssue, SpecRuleError } from './platform-rules.js';
