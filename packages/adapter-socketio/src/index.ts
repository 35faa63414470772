import type { Port, SessionManager } from "psession";
import { attachClient } from "./client.js";
import type { ClientAttachOptions, ServerAttachOptions, SocketIoPorts } from "./options.js";
import { attachServer } from "./server.js";
import type { ClientSocketLike, NamespaceLike, ServerLike, ServerSocketLike } from "./types.js";

/**
 * Sessions over Socket.IO, on one event (default "psession") beside the application's own.
 * - `attach(manager, io | namespace, options?)`: every connection becomes its own port (role
 *   "server"), named by the client's `auth.id` or its socket id; returns `{ ports, portOf, close, nodeId }`.
 * - `attach(manager, socket, options?)`: a `socket.io-client` socket becomes a port (default
 *   "default", role "client") for as long as it lives, across Socket.IO's reconnections.
 */
export function attach<S extends ServerSocketLike>(
  manager: SessionManager,
  io: ServerLike<S> | NamespaceLike<S>,
  options?: ServerAttachOptions<S>,
): SocketIoPorts<S>;
export function attach(manager: SessionManager, socket: ClientSocketLike, options?: ClientAttachOptions): Port;
export function attach(
  manager: SessionManager,
  target: ServerLike | NamespaceLike | ClientSocketLike,
  options?: ServerAttachOptions | ClientAttachOptions,
): SocketIoPorts | Port {
  const t = target as { of?: unknown; sockets?: unknown };
  if (typeof t.of === "function" || t.sockets instanceof Map) {
    return attachServer(manager, target as ServerLike, options as ServerAttachOptions);
  }
  return attachClient(manager, target as ClientSocketLike, options as ClientAttachOptions);
}

export { attachClient } from "./client.js";
export { attachServer } from "./server.js";
export type { SocketIoTransport } from "./transport.js";
export type {
  ClientAttachOptions,
  ClusterOptions,
  ServerAttachOptions,
  SocketIoOptions,
  SocketIoPorts,
} from "./options.js";
export type { ClientSocketLike, NamespaceLike, ServerLike, ServerSocketLike } from "./types.js";
export type { Serializer } from "psession";
