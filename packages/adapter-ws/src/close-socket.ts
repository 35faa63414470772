import { CLOSED, type WebSocketLike } from "./types.js";

/** How long a closing connection may take to flush what is queued toward its peer. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Starts the closing handshake (what was sent still leaves first). A `ws` socket whose peer reads
 * nothing is terminated CLOSE_GRACE_MS later if bytes are still queued toward it: otherwise the
 * close frame, queued behind them, would hold the connection and its queue for ws's own 30 s
 * close timeout, or forever while the peer keeps its window shut.
 */
export function closeSocket(socket: WebSocketLike, code: number, reason?: string): void {
  if (socket.readyState >= 2) return;
  socket.close(code, reason);
  const node = socket as WebSocketLike & { terminate?(): void; once?(event: string, listener: () => void): unknown };
  if (typeof node.terminate !== "function" || typeof node.once !== "function") return;
  const timer = setTimeout(() => {
    if (socket.readyState !== CLOSED && (socket.bufferedAmount ?? 0) > 0) node.terminate!();
  }, CLOSE_GRACE_MS);
  (timer as { unref?(): void }).unref?.();
  node.once("close", () => clearTimeout(timer));
}
