/** The sandbox's Stream gateway: connections/open, the /connect WebSocket, delivery and ack tracking. */
export type { BlastOptions, BlastResult } from './blast.js';
export type { CallbackErrorCode, CallbackInvocation, CallbackResult } from './callbacks.js';
export type { ConnectionInfo, ConnectionState } from './connection.js';
export type { AckRecord, AckVariant, DeliveryOutcome, DeliveryRecord } from './delivery-log.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export type { EventPush, EventResult, EventStatus, PushedEvent } from './events.js';
export { unifiedAppIdFor } from './frames.js';
export {
  type AckFault,
  CONNECT_PATH,
  type ConnectionFilter,
  Gateway,
  type GatewayStats,
  LIFETIME_REASON,
  type OpenAnswer,
} from './gateway.js';
export { registerGatewayRoutes } from './routes.js';
