import type { AttachOptions as CoreAttachOptions } from "psession";

/** `WebSocket.readyState` values (the same in browsers and `ws`). */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/**
 * What the adapter needs of a socket: a browser `WebSocket` or a `ws` client/server `WebSocket`.
 * At runtime a socket with `on()` is driven through the `ws` API (no event objects per message,
 * ping/pong heartbeats), anything else through `addEventListener`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: any): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(code?: number, reason?: string): void;
}

/** What the adapter needs of a `ws` `WebSocketServer`. */
export interface WebSocketServerLike {
  on(event: "connection", listener: (socket: any, request: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  off(event: "connection", listener: (socket: any, request: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  handleUpgrade(...args: any[]): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The HTTP upgrade request of a server-side connection (a Node `IncomingMessage`). */
export interface UpgradeRequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined; remotePort?: number | undefined };
}

/**
 * Turns messages into frames and back. `decode` gets text frames as a string and binary frames as
 * a Uint8Array; anything it throws is reported on the manager's "error" event and the frame is
 * dropped. Default: JSON over text frames.
 */
export interface Serializer {
  encode(message: unknown): string | Uint8Array | ArrayBuffer;
  decode(data: string | Uint8Array): unknown;
}

export interface HeartbeatOptions {
  /** Milliseconds between pings (after the previous pong). */
  interval: number;
  /** Milliseconds to wait for the pong; a peer that misses it is terminated. Default: `interval`. */
  timeout?: number;
}

export interface SocketOptions {
  /** Frame codec (default JSON text frames). */
  serializer?: Serializer;
  /**
   * Ping/pong liveness check (`ws` sockets only; browsers cannot send pings but answer them). A
   * peer that stops answering is terminated and its pending sessions abort.
   */
  heartbeat?: HeartbeatOptions;
}

/** Options of `attach(manager, socket)`: the core port options plus the socket's. Role defaults to "client". */
export interface ClientAttachOptions extends CoreAttachOptions, SocketOptions {}

/** Options of `attach(manager, server)`: every connection's port gets these. Role defaults to "server". */
export interface ServerAttachOptions<S = any> extends Omit<CoreAttachOptions, "port">, SocketOptions { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Names the port of a new connection (default `remoteAddress:remotePort`). */
  portName?: (socket: S, request: UpgradeRequestLike) => string;
}
