import type { FrameType } from '@dingtalk-skills/sdk/protocol';
import type { ConnectionInfo, GatewayConnection } from './connection.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import type { TimerSet } from './timers.js';

/** Which connection `waitForConnection` waits for. */
export interface ConnectionFilter {
  /** Default: any app. */
  clientId?: string;
  /** With `topic`: the connection must subscribe to it. */
  type?: FrameType;
  topic?: string;
}

const CLOSED_KEPT = 100;

function matches(conn: GatewayConnection, filter: ConnectionFilter): boolean {
  if (filter.clientId !== undefined && conn.appId !== filter.clientId) return false;
  if (filter.topic !== undefined && !conn.subscribes(filter.type ?? 'CALLBACK', filter.topic)) return false;
  return true;
}

/**
 * The gateway's connections: the live ones (open or disconnecting), the last {@link CLOSED_KEPT}
 * closed ones (for the control API), and callers waiting for a matching connection to arrive.
 */
export class ConnectionRegistry {
  readonly #timers: TimerSet;
  readonly #conns = new Map<string, GatewayConnection>();
  readonly #closed: ConnectionInfo[] = [];
  readonly #waiters = new Set<{ filter: ConnectionFilter; settle: (c: GatewayConnection | Error) => void }>();

  constructor(timers: TimerSet) {
    this.#timers = timers;
  }

  get size(): number {
    return this.#conns.size;
  }

  /** Connections not yet closed. */
  all(): GatewayConnection[] {
    return [...this.#conns.values()];
  }

  get(id: string): GatewayConnection | undefined {
    return this.#conns.get(id);
  }

  add(conn: GatewayConnection): void {
    this.#conns.set(conn.id, conn);
  }

  /** Hands a new connection to the waiters it matches. */
  announce(conn: GatewayConnection): void {
    for (const w of [...this.#waiters]) if (matches(conn, w.filter)) w.settle(conn);
  }

  /** Moves a closed connection to the closed list (bounded). */
  remove(conn: GatewayConnection): void {
    this.#conns.delete(conn.id);
    this.#closed.push(conn.info());
    if (this.#closed.length > CLOSED_KEPT) this.#closed.shift();
  }

  /** Open and disconnecting connections, then the last closed ones (newest last). */
  list(options: { includeClosed?: boolean } = {}): ConnectionInfo[] {
    const live = [...this.#conns.values()].map((c) => c.info());
    return options.includeClosed === false ? live : [...this.#closed, ...live];
  }

  info(id: string): ConnectionInfo | undefined {
    return this.#conns.get(id)?.info() ?? this.#closed.find((c) => c.id === id);
  }

  /** The connection if it is open; throws `unknownConnection` or `connectionNotOpen`. */
  live(connectionId: string): GatewayConnection {
    const conn = this.#conns.get(connectionId);
    if (conn === undefined) throw this.unknown(connectionId);
    if (!conn.live)
      throw new GatewayError(
        GatewayErrorCode.ConnectionNotOpen,
        `connection ${connectionId} is ${conn.state}`,
      );
    return conn;
  }

  /** The error for an id that is not a live connection: `connectionNotOpen` if it closed, else `unknownConnection`. */
  unknown(connectionId: string): GatewayError {
    const closed = this.#closed.some((c) => c.id === connectionId);
    return closed
      ? new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${connectionId} is closed`)
      : new GatewayError(GatewayErrorCode.UnknownConnection, `no connection ${connectionId}`);
  }

  /** A live connection of the app subscribed to the topic, chosen at random; undefined if none. */
  pick(appId: string, type: FrameType, topic: string): GatewayConnection | undefined {
    // Reservoir sampling: each eligible connection is chosen with equal probability.
    let chosen: GatewayConnection | undefined;
    let seen = 0;
    for (const c of this.#conns.values()) {
      if (c.appId !== appId || !c.live || !c.subscribes(type, topic)) continue;
      seen++;
      if (Math.random() * seen < 1) chosen = c;
    }
    return chosen;
  }

  /** The first open connection matching the filter. */
  find(filter: ConnectionFilter): ConnectionInfo | undefined {
    for (const c of this.#conns.values()) if (c.live && matches(c, filter)) return c.info();
    return undefined;
  }

  /** Resolves with the next connection matching the filter to arrive; rejects `noSubscriber` after `timeoutMs`. */
  waitFor(filter: ConnectionFilter, timeoutMs: number): Promise<ConnectionInfo> {
    return new Promise<ConnectionInfo>((resolve, reject) => {
      const waiter = {
        filter,
        settle: (c: GatewayConnection | Error) => {
          this.#waiters.delete(waiter);
          this.#timers.clear(timer);
          if (c instanceof Error) reject(c);
          else resolve(c.info());
        },
      };
      const timer = this.#timers.timeout(timeoutMs, () =>
        waiter.settle(
          new GatewayError(
            GatewayErrorCode.NoSubscriber,
            `no connection matching ${JSON.stringify(filter)} within ${timeoutMs} ms`,
          ),
        ),
      );
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every waiter with `error`. */
  failWaiters(error: Error): void {
    for (const w of [...this.#waiters]) w.settle(error);
  }
}
