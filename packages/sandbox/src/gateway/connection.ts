import type { Duplex } from 'node:stream';
import type { FrameType, Subscription } from '@dingtalk-skills/sdk/protocol';
import { WebSocket } from 'ws';
import type { TicketGrant } from './tickets.js';
import type { TimerHandle } from './timers.js';

/**
 * `open`: receives deliveries. `disconnecting`: SYSTEM disconnect sent, no new deliveries, the socket
 * closes after the grace period. `closed`: gone.
 */
export type ConnectionState = 'open' | 'disconnecting' | 'closed';

/** A connection as the control API lists it. */
export interface ConnectionInfo {
  id: string;
  /** clientId of the app. */
  appId: string;
  subscriptions: Subscription[];
  ua: string | undefined;
  localIp: string | undefined;
  remoteAddress: string | undefined;
  connectedAt: number;
  state: ConnectionState;
  framesSent: number;
  messagesReceived: number;
  disconnectReason?: string;
  closedAt?: number;
  closeCode?: number;
}

/** One gateway WebSocket connection and its per-connection timers. */
export class GatewayConnection {
  readonly id: string;
  readonly ws: WebSocket;
  readonly grant: TicketGrant;
  readonly connectedAt: number;
  readonly remoteAddress: string | undefined;
  /** The TCP socket under the WebSocket (the blast hook corks it to batch writes). */
  readonly socket: Duplex;
  state: ConnectionState = 'open';
  framesSent = 0;
  messagesReceived = 0;
  disconnectReason: string | undefined;
  closedAt: number | undefined;
  closeCode: number | undefined;
  /** SYSTEM pings in a row left unanswered (reset by an echoed one). */
  missedPings = 0;
  /** Timers owned by this connection (all from the gateway's TimerSet). */
  readonly timers: {
    ping?: TimerHandle;
    lifetime?: TimerHandle;
    grace?: TimerHandle;
    closeFallback?: TimerHandle;
  } = {};

  constructor(
    id: string,
    ws: WebSocket,
    grant: TicketGrant,
    connectedAt: number,
    remoteAddress: string | undefined,
    socket: Duplex,
  ) {
    this.id = id;
    this.ws = ws;
    this.grant = grant;
    this.connectedAt = connectedAt;
    this.remoteAddress = remoteAddress;
    this.socket = socket;
  }

  get appId(): string {
    return this.grant.app.clientId;
  }

  /** Open, and the socket can take frames: eligible for new deliveries. */
  get live(): boolean {
    return this.state === 'open' && this.ws.readyState === WebSocket.OPEN;
  }

  /** EVENT subscriptions match topic `*`; CALLBACK and SYSTEM ones match their exact topic. */
  subscribes(type: FrameType, topic: string): boolean {
    return this.grant.subscriptions.some((s) => s.type === type && s.topic === topic);
  }

  /** Sends one text frame; false when the socket is not open. */
  send(text: string, cb?: (err?: Error) => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text, cb);
    this.framesSent++;
    return true;
  }

  info(): ConnectionInfo {
    const out: ConnectionInfo = {
      id: this.id,
      appId: this.appId,
      subscriptions: this.grant.subscriptions,
      ua: this.grant.ua,
      localIp: this.grant.localIp,
      remoteAddress: this.remoteAddress,
      connectedAt: this.connectedAt,
      state: this.state,
      framesSent: this.framesSent,
      messagesReceived: this.messagesReceived,
    };
    if (this.disconnectReason !== undefined) out.disconnectReason = this.disconnectReason;
    if (this.closedAt !== undefined) out.closedAt = this.closedAt;
    if (this.closeCode !== undefined) out.closeCode = this.closeCode;
    return out;
  }
}
