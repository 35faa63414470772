import type { Socket } from "node:net";
import { attach as attachTransport, type Port, type Role, type SessionManager } from "psession";
import type { NetSocketAttachOptions } from "./options.js";
import { createSocketTransport, type SocketTransport } from "./socket-transport.js";

/**
 * Binds a port of `manager` to one connected (or connecting) `net.Socket` / `tls.TLSSocket`.
 * The port is destroyed when the socket closes, ends, fails or times out a heartbeat: its pending
 * sends reject with SessionAbortError at once.
 */
export function attachSocket(manager: SessionManager, socket: Socket, options: NetSocketAttachOptions = {}): Port {
  // An explicit `role: undefined` is honoured: for peers that pick any sid they like.
  return bindSocket(manager, socket, options, "role" in options ? options.role : "client").port;
}

/** Wraps `socket` in a framed transport and attaches it as a port; the server adapter uses it per connection. */
export function bindSocket(
  manager: SessionManager,
  socket: Socket,
  options: NetSocketAttachOptions,
  role: Role | undefined,
): { port: Port; transport: SocketTransport } {
  const { framing, maxFrameBytes, serializer, heartbeat, noDelay, ...portOptions } = options;
  let port: Port | undefined;
  const transport = createSocketTransport(socket, {
    framing,
    maxFrameBytes,
    serializer,
    heartbeat,
    noDelay,
    onError: (error) => manager.report(error, port),
  });
  port = attachTransport(manager, transport, { ...portOptions, role });
  return { port, transport };
}
