import type { ChannelOptions, ConnectionPortsOptions } from "psession";
import type { SocketTransport } from "./transport.js";

/** `WebSocket.readyState` values (the same in browsers and `ws`). */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/**
 * What the adapter needs of a socket: a browser `WebSocket` or a `ws` client/server `WebSocket`.
 * At runtime a socket with `on()` is driven through the `ws` API (no event objects per message,
 * ping/pong heartbeats, pause/resume), anything else through `addEventListener`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  send(data: any): void;
  close(code?: number, reason?: string): void;
}

/** What the adapter needs of a `ws` `WebSocketServer`. */
export interface WebSocketServerLike {
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  on(event: "connection", listener: (socket: any, request: any) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  off(event: "connection", listener: (socket: any, request: any) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  handleUpgrade(...args: any[]): unknown;
}

/** The HTTP upgrade request of a server-side connection (a Node `IncomingMessage`). */
export interface UpgradeRequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined; remotePort?: number | undefined };
}

/**
 * Options of `attach(manager, socket)`: the core's port options (`port`, `role` — default
 * "client" —, `reconnect`, `sessionTimeout`, …) plus `serializer`, `heartbeat` and `maxFrameBytes`,
 * the same names and meanings as in every adapter.
 */
export type ClientAttachOptions = ChannelOptions;

/**
 * Options of `attach(manager, server)`: every connection's port gets them (role default "server").
 * `portName(socket, request)` names each connection's port (default `remoteAddress:remotePort`).
 */
// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
export type ServerAttachOptions<S = any> = ConnectionPortsOptions<S, UpgradeRequestLike, SocketTransport>;
