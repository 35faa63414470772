import type { Server, Socket } from "node:net";
import type { ConnectionPorts, Port, SessionManager } from "psession";
import { attachServer } from "./attach-server.js";
import { attachSocket } from "./attach-socket.js";
import type { NetServerAttachOptions, NetSocketAttachOptions } from "./options.js";

/**
 * Sessions over TCP, TLS or a Unix-domain socket.
 * - `attach(manager, socket, options?)`: a client socket (`net.connect`, `tls.connect`) becomes a
 *   port (default "default", role "client").
 * - `attach(manager, server, options?)`: every connection of a `net.Server` / `tls.Server` becomes
 *   its own port (role "server"); returns `{ ports, portOf(socket), close(options?) }`.
 */
export function attach(
  manager: SessionManager,
  server: Server,
  options?: NetServerAttachOptions,
): ConnectionPorts<Socket>;
export function attach(manager: SessionManager, socket: Socket, options?: NetSocketAttachOptions): Port;
export function attach(
  manager: SessionManager,
  target: Server | Socket,
  options?: NetServerAttachOptions | NetSocketAttachOptions,
): ConnectionPorts<Socket> | Port {
  if (typeof (target as Server).listen === "function") {
    return attachServer(manager, target as Server, options as NetServerAttachOptions);
  }
  return attachSocket(manager, target as Socket, options as NetSocketAttachOptions);
}
