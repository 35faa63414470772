import {
  attachConnections,
  DEFAULT_MAX_FRAME_BYTES,
  heartbeatSettings,
  maxFrameBytesSetting,
  type ConnectionPorts,
  type SessionManager,
} from "psession";
import { LABEL } from "./client.js";
import { closeSocket } from "./close-socket.js";
import { SocketTransport } from "./transport.js";
import {
  OPEN,
  type ServerAttachOptions,
  type UpgradeRequestLike,
  type WebSocketLike,
  type WebSocketServerLike,
} from "./types.js";

/** `ws`'s own default `maxPayload` (100 MiB), replaced by psession's 1 MiB unless chosen on purpose. */
const WS_DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;

/**
 * Gives every connection of `server` its own port (role "server"), through the core's
 * `attachConnections`: the same handle, options and rules as every adapter.
 */
export function attachServer<S extends object = WebSocketLike>(
  manager: SessionManager,
  server: WebSocketServerLike,
  options: ServerAttachOptions<S> = {},
): ConnectionPorts<S> {
  const { serializer, heartbeat, maxFrameBytes, ...rest } = options;
  const settings = heartbeatSettings(heartbeat, LABEL);
  const max = applyMaxFrameBytes(server, maxFrameBytes);
  const handle: ConnectionPorts<S> = attachConnections<S, UpgradeRequestLike, SocketTransport>(
    manager,
    {
      label: LABEL,
      listen(accept) {
        server.on("connection", accept);
        return () => server.off("connection", accept);
      },
      defaultName: (_socket, request) => `${request.socket.remoteAddress}:${request.socket.remotePort}`,
      transport: (socket) =>
        new SocketTransport(socket as unknown as WebSocketLike, {
          role: "server",
          serializer,
          heartbeat: settings,
          maxFrameBytes: max,
          report: (error) => manager.report(error, handle.portOf(socket)),
        }),
      end(socket, why) {
        const s = socket as unknown as WebSocketLike;
        if (s.readyState > OPEN) return;
        if (why === "superseded") closeSocket(s, 1000, "superseded by a newer connection");
        else if (why === "refused") closeSocket(s, 1011, "connection refused");
        else closeSocket(s, 1001, "server detached");
      },
    },
    rest,
  );
  return handle;
}

/**
 * One frame limit for every adapter: `maxFrameBytes` (default 1 MiB) becomes the server's
 * `maxPayload` for the connections it accepts from now on, so `ws` refuses a bigger frame before
 * buffering it. A `maxPayload` the server was given on purpose (not ws's 100 MiB default) is kept.
 */
function applyMaxFrameBytes(server: WebSocketServerLike, maxFrameBytes: number | undefined): number {
  const wsOptions = (server as { options?: { maxPayload?: number } }).options;
  if (maxFrameBytes !== undefined) {
    const max = maxFrameBytesSetting(maxFrameBytes, LABEL);
    if (wsOptions !== undefined) wsOptions.maxPayload = max;
    return max;
  }
  const own = wsOptions?.maxPayload;
  if (typeof own === "number" && own !== WS_DEFAULT_MAX_PAYLOAD) return own > 0 ? own : Number.MAX_SAFE_INTEGER;
  if (wsOptions !== undefined) wsOptions.maxPayload = DEFAULT_MAX_FRAME_BYTES;
  return DEFAULT_MAX_FRAME_BYTES;
}
