// Zero-copy sends. The transfer list rides on the message under `Symbol.for("psession.transfer")`:
// psession carries that one symbol over when it copies a message to tag it, and structured clone
// drops it, so the list reaches postMessage and never the peer.
import type { Message } from "psession";

/** Where `transfer()` puts the list on a message. */
export const TRANSFER: unique symbol = Symbol.for("psession.transfer") as never;

/**
 * Marks `message` so that `transferables` (ArrayBuffers, MessagePorts, ...) are transferred, not
 * copied, when psession posts it. For what has no `transfer` option: a `handle()` handler's return
 * value (`return transfer({ frame }, [frame])`) and `session.progress()`; `send()` and `post()` take
 * `{ transfer }` themselves. After the post they are detached on this side. A transferred message
 * cannot leave twice: a replay of it fails with SessionSendError instead of posting detached
 * buffers. Returns `message`.
 */
export function transfer<T extends Message>(message: T, transferables: readonly unknown[]): T {
  if (!Array.isArray(transferables))
    throw new TypeError("@psession/worker: transfer() needs an array of transferables");
  Object.defineProperty(message, TRANSFER, {
    value: transferables,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return message;
}

/** The transfer list of an outgoing message, if it has one. */
export function transferList(message: unknown): readonly unknown[] | undefined {
  return typeof message === "object" && message !== null
    ? ((message as Record<symbol, unknown>)[TRANSFER] as readonly unknown[] | undefined)
    : undefined;
}
