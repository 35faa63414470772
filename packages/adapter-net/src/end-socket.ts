import type { Socket } from "node:net";

/** How long a closing connection may take to flush what is queued toward its peer. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Ends `socket` gracefully (what was written still leaves, then FIN) unless the peer reads nothing:
 * a connection still not flushed CLOSE_GRACE_MS later is destroyed. Without this, a peer that
 * stopped reading (the one back-pressure disconnects) would hold its connection, and everything
 * queued toward it, forever.
 */
export function endSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(() => socket.destroy());
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
