/**
 * metrics/: Prometheus metrics of a running app (prom-client, on a registry of its own): the observer
 * the Stream client, the skills runner, the OpenAPI pipeline and the user-token manager report to.
 */
export { DEFAULT_BUCKETS, Metrics, type MetricsOptions } from './metrics.js';
