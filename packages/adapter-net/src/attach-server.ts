import type { Server, Socket } from "node:net";
import { Server as TlsServer } from "node:tls";
import type { Port, SessionManager } from "psession";
import { bindSocket } from "./attach-socket.js";
import type { NetServerAttachOptions } from "./options.js";
import type { SocketTransport } from "./socket-transport.js";

/** What `attach(manager, server)` returns. */
export interface ServerAttachment {
  readonly server: Server;
  /** The port of every open connection. */
  readonly ports: ReadonlyMap<Socket, Port>;
  /** Stops attaching new connections; `closeConnections` also destroys the open ones (aborting their sessions). */
  detach(options?: { closeConnections?: boolean }): void;
}

let unixCounter = 0;

/**
 * Attaches every connection `server` accepts (a `net.Server` or `tls.Server`) as its own port of
 * `manager`. A port lives exactly as long as its connection.
 */
export function attachServer(
  manager: SessionManager,
  server: Server,
  options: NetServerAttachOptions = {},
): ServerAttachment {
  const { portName, onConnection, ...socketOptions } = options;
  // An explicit `role: undefined` is honoured: for peers that pick any sid they like.
  const role = "role" in options ? options.role : "server";
  const ports = new Map<Socket, Port>();
  const transports = new Map<Socket, SocketTransport>();
  // A TLS server's "connection" is the raw TCP socket; the usable one comes with "secureConnection".
  const event = server instanceof TlsServer ? "secureConnection" : "connection";

  const accept = (socket: Socket): void => {
    let name: string;
    try {
      name = portName !== undefined ? portName(socket) : defaultName(manager, socket);
    } catch (error) {
      manager.report(error, undefined);
      socket.destroy();
      return;
    }
    const { port: bound, transport } = bindSocket(manager, socket, { ...socketOptions, port: name }, role);
    ports.set(socket, bound);
    transports.set(socket, transport);
    transport.onClose(() => {
      if (ports.get(socket) === bound) ports.delete(socket);
      transports.delete(socket);
    });
    if (onConnection !== undefined) {
      try {
        onConnection(bound, socket, transport);
      } catch (error) {
        manager.report(error, bound);
      }
    }
  };

  server.on(event, accept);
  return {
    server,
    ports,
    detach({ closeConnections = false } = {}) {
      server.off(event, accept);
      if (closeConnections) {
        for (const transport of [...transports.values()]) transport.destroy(new Error("the server was detached"));
      }
    },
  };
}

function defaultName(manager: SessionManager, socket: Socket): string {
  const base =
    socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : `unix:${++unixCounter}`;
  if (!manager.ports.has(base)) return base;
  for (let n = 2; ; n++) if (!manager.ports.has(`${base}#${n}`)) return `${base}#${n}`;
}
