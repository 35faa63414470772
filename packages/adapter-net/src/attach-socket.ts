import type { Socket } from "node:net";
import { attach as attachTransport, type Port, type SessionManager } from "psession";
import type { NetSocketAttachOptions } from "./options.js";
import { createSocketTransport, type SocketTransport } from "./socket-transport.js";

/**
 * Binds a port of `manager` to one connected (or connecting) `net.Socket` / `tls.TLSSocket`.
 * Sends made while it connects complete once it has. The port is destroyed when the socket
 * closes, ends, fails or times out a heartbeat: its pending sends reject with SessionAbortError at once.
 */
export function attachSocket(manager: SessionManager, socket: Socket, options: NetSocketAttachOptions = {}): Port {
  const { framing, maxFrameBytes, serializer, heartbeat, noDelay, ...portOptions } = options;
  let port: Port | undefined;
  const transport = createSocketTransport(socket, {
    role: "client",
    framing,
    maxFrameBytes,
    serializer,
    heartbeat,
    noDelay,
    report: (error) => manager.report(error, port !== undefined && !port.destroyed ? port : undefined),
  });
  try {
    // The role: the option when given (an explicit `undefined` too: for peers that pick any sid),
    // else the transport's ("client").
    port = attachTransport(manager, transport, portOptions);
  } catch (error) {
    (transport as SocketTransport & { abandon(): void }).abandon();
    throw error;
  }
  return port;
}
