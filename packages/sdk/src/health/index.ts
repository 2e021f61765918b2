/**
 * health/: the operations endpoints (`/metrics`, `/healthz`, `/readyz`) on a small HTTP server of their
 * own, and the readiness rule of an app on Stream.
 */
export { type HttpRoute, type OpsServer, type OpsServerOptions, startOpsServer } from './ops-server.js';
export {
  allReady,
  type ReadinessCheck,
  type ReadinessReport,
  type StateHealthSource,
  stateReadiness,
  streamReadiness,
} from './readiness.js';
