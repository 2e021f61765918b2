import type { DownstreamFrame, FrameType } from '@dingtalk-skills/sdk/protocol';
import type { AppRef, SandboxContext } from '../context.js';
import type { GatewayConnection } from './connection.js';
import type { DeliveryLog, DeliveryRecord } from './delivery-log.js';
import type { PendingAcks } from './pending.js';
import type { TimerSet } from './timers.js';

/** Extra facts recorded with a sent frame. */
export interface SendMeta {
  attempt?: number;
  duplicate?: boolean;
  /** An EVENT held while the app had no live connection: since when (sandbox clock ms). */
  heldSince?: number;
}

/** What the delivery parts (events, callbacks, keepalive, blast) need from the gateway. */
export interface GatewayCore {
  readonly ctx: SandboxContext;
  readonly timers: TimerSet;
  readonly deliveryLog: DeliveryLog;
  readonly pending: PendingAcks;
  /** The app with this clientId, or the first registered app; throws `unknownApp`. */
  resolveApp(clientId: string | undefined): AppRef;
  /** A live connection of the app subscribed to the topic, chosen at random; undefined if none. */
  pick(appId: string, type: FrameType, topic: string): GatewayConnection | undefined;
  /**
   * Encodes (throws `frameTooLarge` above `maxFrameBytes`), sends and records a frame. Throws
   * `connectionNotOpen` when the socket cannot take it. The record starts as `pending`.
   */
  send(conn: GatewayConnection, frame: DownstreamFrame, meta?: SendMeta): DeliveryRecord;
}
