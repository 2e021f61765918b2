export { type BackoffPolicy, backoffDelay } from './backoff.js';
export {
  StreamClient,
  type StreamClientEvents,
  type StreamClientState,
  type StreamClientStatus,
} from './client.js';
export {
  type FetchLike,
  type ResolvedStreamConfig,
  resolveStreamConfig,
  type StreamClientConfig,
  type StreamDedupOptions,
  type StreamKeepaliveOptions,
  type StreamReconnectOptions,
  type StreamSendBufferOptions,
} from './config.js';
export { type ConnectFailure, StreamConnectError } from './connect-error.js';
export {
  type DedupClaim,
  type DedupStore,
  MemoryDedupStore,
  type MemoryDedupStoreOptions,
} from './dedup-store.js';
export type {
  CallbackMessage,
  StreamCallbackHandler,
  StreamCallbackOptions,
  StreamEventHandler,
  StreamHandlerContext,
} from './handlers.js';
export { defaultLocalIp } from './local-ip.js';
export { type StreamMessageOutcome, type StreamObserver, UNREGISTERED_TOPIC } from './observer.js';
export type { SlotState, SlotStatus } from './slot.js';
