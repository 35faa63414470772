import { SessionAbortError, SessionError, type Port, type SessionManager } from "psession";
import { OPEN } from "./types.js";
import { attachSocket } from "./client.js";
import type { ServerAttachOptions, UpgradeRequestLike, WebSocketLike, WebSocketServerLike } from "./types.js";

/** What `attach(manager, server)` returns. */
export interface ServerHandle<S extends object = WebSocketLike> {
  /** The port of a live connection. */
  portOf(socket: S): Port | undefined;
  /** Live attached connections and their ports. */
  readonly ports: ReadonlyMap<S, Port>;
  /**
   * Detaches psession from the server and from every connection: no new ports, every connection's
   * port destroyed (pending sessions abort), our listeners removed. Sockets and server stay open.
   */
  close(): void;
}

const defaultPortName = (_socket: unknown, request: UpgradeRequestLike): string =>
  `${request.socket.remoteAddress}:${request.socket.remotePort}`;

/** Gives every connection of `server` its own port, destroyed when that connection closes. */
export function attachServer<S extends object = WebSocketLike>(
  manager: SessionManager,
  server: WebSocketServerLike,
  options: ServerAttachOptions<S>,
): ServerHandle<S> {
  const ports = new Map<S, Port>();
  let closed = false;
  const portName = options.portName ?? defaultPortName;
  const portOptions = options.role === undefined ? { ...options, role: "server" as const } : { ...options };
  delete portOptions.portName;

  const onConnection = (socket: S & WebSocketLike, request: UpgradeRequestLike): void => {
    let name: string;
    try {
      name = portName(socket, request);
      if (typeof name !== "string" || name === "") throw new TypeError(`portName returned ${String(name)}`);
    } catch (error) {
      manager.report(
        new SessionError(`connection refused: portName failed (${error instanceof Error ? error.message : String(error)})`, {
          cause: error,
        }),
        undefined,
      );
      socket.close(1011, "portName failed");
      return;
    }
    const port = attachSocket(manager, socket, { ...portOptions, port: name }, () => {
      if (ports.get(socket) !== port) return;
      ports.delete(socket);
      // Detached while still open and the port lives on, bound elsewhere: a newer connection took
      // this port name (a stable portName). Close the old one rather than leave it unwatched.
      queueMicrotask(() => {
        if (!closed && !port.destroyed && port.attached && socket.readyState === OPEN && !ports.has(socket)) {
          socket.close(1000, "superseded by a newer connection");
        }
      });
    });
    ports.set(socket, port);
  };

  server.on("connection", onConnection);
  return {
    ports,
    portOf: (socket) => ports.get(socket),
    close() {
      closed = true;
      server.off("connection", onConnection);
      for (const [socket, port] of [...ports]) {
        ports.delete(socket);
        port.destroy(new SessionAbortError(`port "${port.name}": detached from the WebSocket server`));
      }
    },
  };
}
