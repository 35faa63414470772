import { attach as attachTransport, type Port, type SessionManager } from "psession";
import { SocketTransport } from "./transport.js";
import { CLOSED, CLOSING, OPEN, type ClientAttachOptions, type WebSocketLike } from "./types.js";

/**
 * Binds one socket to one port (default "default", role "client"). Also used by the server for
 * each connection, with `onTeardown` to forget the connection once psession lets go of it.
 */
export function attachSocket(
  manager: SessionManager,
  socket: WebSocketLike,
  options: ClientAttachOptions,
  onTeardown?: () => void,
): Port {
  const transport = new SocketTransport(manager, socket, options.serializer, options.heartbeat, onTeardown);
  const port = attachTransport(manager, transport, options.role === undefined ? { ...options, role: "client" } : options);
  transport.port = port;
  return port;
}

/**
 * Resolves once `socket` is open (at once if it already is); rejects if it closes or fails first.
 * Sends on a socket that is not open fail at once, so a client usually awaits this first.
 */
export function whenOpen(socket: WebSocketLike): Promise<void> {
  if (socket.readyState === OPEN) return Promise.resolve();
  if (socket.readyState === CLOSING || socket.readyState === CLOSED) {
    return Promise.reject(new Error("WebSocket is closing or closed"));
  }
  const s = socket as WebSocketLike & {
    addEventListener(type: string, listener: (event: unknown) => void): void;
    removeEventListener(type: string, listener: (event: unknown) => void): void;
  };
  return new Promise<void>((resolve, reject) => {
    const done = (event: unknown) => {
      s.removeEventListener("open", done);
      s.removeEventListener("error", done);
      s.removeEventListener("close", done);
      if ((event as { type?: string }).type === "open") resolve();
      else {
        const cause = (event as { error?: unknown }).error;
        reject(new Error(`WebSocket did not open (${(event as { type?: string }).type ?? "failed"})`, { cause }));
      }
    };
    s.addEventListener("open", done);
    s.addEventListener("error", done);
    s.addEventListener("close", done);
  });
}
