import type { Socket } from "node:net";
import { attach as attachTransport, type Port, type SessionManager } from "psession";
import type { NetSocketAttachOptions } from "./options.js";
import { createSocketTransport } from "./socket-transport.js";

/**
 * Binds a port of `manager` to one connected (or connecting) `net.Socket` / `tls.TLSSocket`.
 * The port is destroyed when the socket closes, ends, fails or times out a heartbeat: its pending
 * sends reject with SessionAbortError at once.
 */
export function attachSocket(manager: SessionManager, socket: Socket, options: NetSocketAttachOptions = {}): Port {
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
  // An explicit `role: undefined` is honoured: for peers that pick any sid they like.
  port = attachTransport(manager, transport, { ...portOptions, role: "role" in options ? options.role : "client" });
  return port;
}
