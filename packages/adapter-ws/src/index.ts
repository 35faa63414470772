import type { ConnectionPorts, Port, SessionManager } from "psession";
import { attachSocket } from "./client.js";
import { attachServer } from "./server.js";
import type { ClientAttachOptions, ServerAttachOptions, WebSocketLike, WebSocketServerLike } from "./types.js";

/**
 * `attach(manager, server)`: every connection of a `ws` WebSocketServer gets its own port (role
 * "server"), destroyed when it closes. Returns `{ ports, portOf(socket), close(options?) }`.
 */
export function attach<S extends object = WebSocketLike>(
  manager: SessionManager,
  server: WebSocketServerLike,
  options?: ServerAttachOptions<S>,
): ConnectionPorts<S>;
/**
 * `attach(manager, socket)`: a browser WebSocket or a `ws` client WebSocket becomes one port
 * (default "default", role "client"). Sends wait while it connects. Its closing aborts that port's
 * pending sessions at once, unless `reconnect: true` keeps them for the next `attach()`.
 */
export function attach(manager: SessionManager, socket: WebSocketLike, options?: ClientAttachOptions): Port;
export function attach(
  manager: SessionManager,
  target: WebSocketServerLike | WebSocketLike,
  options: ServerAttachOptions | ClientAttachOptions = {},
): Port | ConnectionPorts<object> {
  if (typeof (target as Partial<WebSocketServerLike>).handleUpgrade === "function") {
    return attachServer(manager, target as WebSocketServerLike, options as ServerAttachOptions);
  }
  if (
    typeof (target as Partial<WebSocketLike>).send !== "function" ||
    typeof (target as WebSocketLike).readyState !== "number"
  ) {
    throw new TypeError("@psession/ws: attach() takes a WebSocket or a ws WebSocketServer");
  }
  return attachSocket(manager, target as WebSocketLike, options as ClientAttachOptions);
}

export { whenOpen } from "./client.js";
export { jsonSerializer } from "./serializer.js";
export { SocketTransport } from "./transport.js";
export type { SocketTransportOptions } from "./transport.js";
export type {
  ClientAttachOptions,
  ServerAttachOptions,
  UpgradeRequestLike,
  WebSocketLike,
  WebSocketServerLike,
} from "./types.js";
/** What `attach(manager, server)` returns: the core's one handle shape. */
export type ServerHandle<S extends object = WebSocketLike> = ConnectionPorts<S>;
export type { ConnectionPorts, HeartbeatOptions, Serializer } from "psession";
