/** The sandbox's Stream gateway: connections/open, the /connect WebSocket, delivery and ack tracking. */
export type { BlastOptions, BlastResult } from './blast.js';
export type { CallbackErrorCode, CallbackInvocation, CallbackResult } from './callbacks.js';
export type { ConnectionInfo, ConnectionState } from './connection.js';
export type { AckRecord, AckVariant, DeliveryOutcome, DeliveryRecord } from './delivery-log.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export type { EventPush, EventResult, EventStatus, PushedEvent } from './events.js';
export { unifiedAppIdFor } from './frames.js';
export { Gateway, type GatewayStats, LIFETIME_REASON } from './gateway.js';
export { CONNECT_PATH, type OpenAnswer } from './handshake.js';
export type { ConnectionFilter } from './registry.js';
export { registerGatewayRoutes } from './routes.js';
export type { AckFault } from './upstream.js';
