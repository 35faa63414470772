import type { Server, Socket } from "node:net";
import type { Port, SessionManager } from "psession";
import { attachServer, type ServerAttachment } from "./attach-server.js";
import { attachSocket } from "./attach-socket.js";
import type { NetServerAttachOptions, NetSocketAttachOptions } from "./options.js";

/**
 * Sessions over TCP, TLS or a Unix-domain socket.
 * - `attach(manager, socket, options?)`: a client socket (`net.connect`, `tls.connect`) becomes a
 *   port (default "default", role "client").
 * - `attach(manager, server, options?)`: every connection of a `net.Server` / `tls.Server` becomes
 *   its own port (role "server").
 */
export function attach(manager: SessionManager, server: Server, options?: NetServerAttachOptions): ServerAttachment;
export function attach(manager: SessionManager, socket: Socket, options?: NetSocketAttachOptions): Port;
export function attach(
  manager: SessionManager,
  target: Server | Socket,
  options?: NetServerAttachOptions | NetSocketAttachOptions,
): ServerAttachment | Port {
  if (typeof (target as Server).listen === "function") {
    return attachServer(manager, target as Server, options as NetServerAttachOptions);
  }
  return attachSocket(manager, target as Socket, options as NetSocketAttachOptions);
}
