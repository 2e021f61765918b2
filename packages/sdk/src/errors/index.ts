export { DingTalkSkillsError, ErrorCode, isCodedError, toError } from './coded-error.js';
