/**
 * Request admission (准入) and body bounds: who may drive the sandbox (Host, Origin, the control
 * API's content type / client header) and how deep a JSON body may nest.
 */
export { Admission, AdmissionCode, type Refusal, SANDBOX_CLIENT_HEADER } from './admission.js';
export { HostPolicy, type HostPolicyInput, LOOPBACK_NAMES, splitHost } from './hosts.js';
export { JSON_TOO_DEEP, JsonTooDeepError, jsonDeeperThan, MAX_JSON_DEPTH, useBoundedJson } from './json.js';
