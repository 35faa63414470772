import type { ChannelOptions, ConnectionPortsOptions, Port } from "psession";
import { LABEL } from "./codec.js";
import type { SocketIoTransport } from "./transport.js";
import type { ServerSocketLike } from "./types.js";

/** Socket.IO's reserved event names: an `event` option cannot be one of them. */
const RESERVED = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

/** The options only this adapter has. */
export interface SocketIoOptions {
  /** The one event sessions travel on (default "psession"). The app's own events and acks are untouched. */
  event?: string;
  /**
   * The channel may deliver a frame twice: set it when clients use Socket.IO's `retries`
   * (at-least-once emits). The core then remembers ended turns so a repeat never runs twice.
   * Client default: true when the socket has `retries`; server default: false.
   */
  duplicates?: boolean;
}

/**
 * `attach(manager, socket, options)`: the core's port options (`port` — default "default" —,
 * `role` — default "client" —, `reconnect`, `sessionTimeout`, `retryCount`, …), `serializer`
 * (default: none, Socket.IO encodes the message object itself), `maxFrameBytes`, `event`.
 * Liveness is Socket.IO's own (`pingInterval`/`pingTimeout`): there is no `heartbeat` option.
 */
export interface ClientAttachOptions extends Omit<ChannelOptions, "heartbeat">, SocketIoOptions {}

/** Sessions with clients connected to other nodes of a Socket.IO cluster (see the README). */
export interface ClusterOptions {
  /** This node's id in relay tags (default: a random one). Unique in the cluster. */
  nodeId?: string;
  /** A relay toward a client that has had no session and no traffic for this long is dropped (default 60000 ms). */
  relayIdle?: number;
}

/**
 * `attach(manager, io | namespace, options)`: every connection gets its own port (role default
 * "server"), named `portName(socket)` (default: `socket.handshake.auth.id` when the client sends a
 * string, else `socket.id`). The core's port options apply to every port.
 */
export interface ServerAttachOptions<S = ServerSocketLike>
  extends Omit<ConnectionPortsOptions<S, undefined, SocketIoTransport>, "heartbeat">,
    SocketIoOptions {
  /**
   * With `reconnect`: how long (ms) a disconnected client's port waits for it to come back before
   * it is destroyed. Default: the server's `connectionStateRecovery.maxDisconnectionDuration`,
   * else 120000.
   */
  reconnectWithin?: number;
  /**
   * Reach clients connected to other nodes through the Socket.IO adapter (`@socket.io/redis-adapter`):
   * `manager.createSession(name)` on any node opens a session with the client whose port is `name`.
   */
  cluster?: boolean | ClusterOptions;
}

/** What the server `attach` returns: the core's handle, plus this node's id when clustered. */
export interface SocketIoPorts<S = ServerSocketLike> {
  readonly ports: ReadonlyMap<S, Port>;
  portOf(socket: S): Port | undefined;
  /** Detaches psession (see ConnectionPorts.close); with `cluster`, stops relaying too. */
  close(options?: { closeConnections?: boolean }): void;
  /** This node's id in the cluster (undefined without `cluster`). */
  readonly nodeId: string | undefined;
}

export function eventSetting(event: string | undefined): string {
  const name = event ?? "psession";
  if (typeof name !== "string" || name === "" || RESERVED.has(name)) {
    throw new TypeError(
      `${LABEL}: event must be a non-empty string other than Socket.IO's reserved names, not ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Socket.IO has its own heartbeat: say so rather than ignore the option. */
export function refuseHeartbeat(options: object): void {
  if ((options as { heartbeat?: unknown }).heartbeat !== undefined) {
    throw new TypeError(
      `${LABEL}: no heartbeat option; Socket.IO pings by itself (pingInterval / pingTimeout on the server)`,
    );
  }
}

export function delaySetting(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0) || value > 0x7fffffff)
    throw new RangeError(`${LABEL}: ${what} must be a positive number of ms`);
  return value;
}
