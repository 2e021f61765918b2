/**
 * cards/: the emulated card APIs (AI卡片: create, deliver, createAndDeliver, streaming update, update,
 * a per-app card QPS limit answering DingTalk's 403) and their control API (cards and their history,
 * the QPS limit as a fault, a QPS meter).
 */
export { describeCard, registerCardControl } from './card-control.js';
export { CardQps, type CardQpsStats } from './card-qps.js';
export {
  type CardHistoryEntry,
  CardRegistry,
  type CardSpace,
  cardRegistryOf,
  type SandboxCard,
} from './card-registry.js';
export { registerCardRoutes } from './card-routes.js';
