import {
  attach as attachTransport,
  heartbeatSettings,
  maxFrameBytesSetting,
  SessionChannelError,
  type Port,
  type SessionManager,
} from "psession";
import { SocketTransport } from "./transport.js";
import { CLOSED, CLOSING, OPEN, type ClientAttachOptions, type WebSocketLike } from "./types.js";

export const LABEL = "@psession/ws";

/**
 * Binds one socket to one port (default "default", role "client"). Sends made while the socket is
 * still connecting wait for it to open.
 */
export function attachSocket(manager: SessionManager, socket: WebSocketLike, options: ClientAttachOptions = {}): Port {
  const { serializer, heartbeat, maxFrameBytes, ...portOptions } = options;
  let port: Port | undefined;
  const transport = new SocketTransport(socket, {
    role: "client",
    serializer,
    heartbeat: heartbeatSettings(heartbeat, LABEL),
    maxFrameBytes: maxFrameBytesSetting(maxFrameBytes, LABEL),
    report: (error) => manager.report(error, port !== undefined && !port.destroyed ? port : undefined),
  });
  try {
    // The role: the option when given (an explicit `undefined` too: for peers that pick any sid),
    // else the transport's ("client").
    port = attachTransport(manager, transport, portOptions);
  } catch (error) {
    transport.abandon();
    throw error;
  }
  return port;
}

/**
 * Resolves once `socket` is open (at once if it already is); rejects with a SessionChannelError
 * (`NOT_OPEN`) if it closes or fails first. Sends wait for the socket to open by themselves; this
 * is for code that wants to know.
 */
export function whenOpen(socket: WebSocketLike): Promise<void> {
  if (socket.readyState === OPEN) return Promise.resolve();
  if (socket.readyState === CLOSING || socket.readyState === CLOSED) {
    return Promise.reject(new SessionChannelError("NOT_OPEN", "WebSocket is closing or closed"));
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
        const type = (event as { type?: string }).type ?? "failed";
        reject(new SessionChannelError("NOT_OPEN", `WebSocket did not open (${type})`, { cause }));
      }
    };
    s.addEventListener("open", done);
    s.addEventListener("error", done);
    s.addEventListener("close", done);
  });
}
