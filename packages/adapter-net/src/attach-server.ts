import type { Server, Socket } from "node:net";
import { Server as TlsServer } from "node:tls";
import { attachConnections, type ConnectionPorts, type SessionManager } from "psession";
import { endSocket } from "./end-socket.js";
import type { NetServerAttachOptions } from "./options.js";
import { createSocketTransport, LABEL, netSettings, type SocketTransport } from "./socket-transport.js";

/** What `attach(manager, server)` returns: the core's one handle shape, `{ ports, portOf, close }`. */
export type ServerAttachment = ConnectionPorts<Socket>;

let unixCounter = 0;

/**
 * Attaches every connection `server` accepts (a `net.Server` or `tls.Server`) as its own port of
 * `manager`, through the core's `attachConnections`: the same handle, options and rules as every
 * adapter. A port lives exactly as long as its connection (with `reconnect`, until the next
 * connection under its name).
 */
export function attachServer(
  manager: SessionManager,
  server: Server,
  options: NetServerAttachOptions = {},
): ConnectionPorts<Socket> {
  const { framing, maxFrameBytes, serializer, heartbeat, noDelay, ...rest } = options;
  const transportOptions = { framing, maxFrameBytes, serializer, heartbeat, noDelay, role: "server" as const };
  netSettings(transportOptions); // bad options fail here, not once per connection
  // A TLS server's "connection" is the raw TCP socket; the usable one comes with "secureConnection".
  const event = server instanceof TlsServer ? "secureConnection" : "connection";
  const transports = new WeakMap<Socket, SocketTransport>();
  const handle: ConnectionPorts<Socket> = attachConnections<Socket, undefined, SocketTransport>(
    manager,
    {
      label: LABEL,
      listen(accept) {
        const onConnection = (socket: Socket) => accept(socket, undefined);
        server.on(event, onConnection);
        return () => void server.off(event, onConnection);
      },
      defaultName: (socket) =>
        socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : `unix:${++unixCounter}`,
      transport: (socket) => {
        const transport = createSocketTransport(socket, {
          ...transportOptions,
          report: (error) => manager.report(error, handle.portOf(socket)),
        });
        transports.set(socket, transport);
        return transport;
      },
      end(socket, why) {
        if (socket.destroyed) return;
        // Superseded: what was already written still leaves, the batch of this tick too (the
        // older peer's cancel notices), then the connection closes.
        const transport = transports.get(socket);
        if (why === "superseded" && transport !== undefined) transport.close();
        else if (why === "superseded") endSocket(socket);
        else socket.destroy();
      },
    },
    rest,
  );
  return handle;
}
