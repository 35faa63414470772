import { SessionChannelError } from "psession";
import { describe } from "./codec.js";

/**
 * The channel's own control frame, `{ "$hello": "<id>" }`, sent by both ends first on every
 * connection: the id names the incarnation of the sender's port (the same across reconnects while
 * the port keeps its sessions). A port that kept its sessions over a disconnect keeps them only
 * when the peer's id is the one it had: a restarted server or client, or a client that reconnected
 * to another node, starts afresh instead of meeting stale session state. Never reaches psession.
 */
export const HELLO = "$hello";

/**
 * In a hello: this end reads batches, one event whose frame is an array of frames (several
 * messages sent in one tick). Only a peer that said so gets them: a hand-written peer, which never
 * says hello, always gets one message per event.
 */
export const BATCHES = "$batch";

/** This end's hello: its port's incarnation, and that it reads batches. */
export function helloFrame(id: string): Record<string, unknown> {
  return { [HELLO]: id, [BATCHES]: 1 };
}

/** A batch with no frame in it: reported, like any event that carries no message. */
export function emptyBatch(): SessionChannelError {
  return new SessionChannelError("DECODE_FAILED", "event dropped: an empty batch");
}

/** The hello says its sender reads batches. */
export function readsBatches(hello: unknown): boolean {
  return (hello as Record<string, unknown>)[BATCHES] === 1;
}

export function helloOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !Object.hasOwn(message, HELLO)) return undefined;
  const id = (message as Record<string, unknown>)[HELLO];
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}

/** A fresh id for a port's incarnation, a node or a relay: unique, not secret. */
export function newId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/** What follows the frame when it travels to or from a relay (a session opened by another node): `{ via: tag }`. */
export interface Via {
  via: string;
}

export function viaOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !Object.hasOwn(value, "via")) return undefined;
  const via = (value as Record<string, unknown>).via;
  return typeof via === "string" && via.length > 0 && via.length <= 100 ? via : undefined;
}

/** One psession event's arguments, taken apart. */
export interface Arguments {
  frame: unknown;
  /** The relay tag, when the frame belongs to a session of another node. */
  via: string | undefined;
  /** An acknowledgement callback the peer appended (Socket.IO's `retries`, or `emitWithAck`). */
  ack: ((...args: unknown[]) => void) | undefined;
  /** Set when the arguments are not a psession event's: the event is dropped and this reported. */
  error: SessionChannelError | undefined;
}

/**
 * `[frame]`, `[frame, { via }]`, optionally followed by an ack callback (and, from a server with
 * connectionStateRecovery, by its offset string: `offsetLast`). Anything else is bad input.
 */
export function parseArguments(args: unknown[], offsetLast: boolean): Arguments {
  let n = args.length;
  let ack: Arguments["ack"];
  if (n > 0 && typeof args[n - 1] === "function") ack = args[--n] as Arguments["ack"];
  if (offsetLast && n > 1 && typeof args[n - 1] === "string") n--;
  if (n === 1) return { frame: args[0], via: undefined, ack, error: undefined };
  if (n === 2) {
    const via = viaOf(args[1]);
    if (via !== undefined) return { frame: args[0], via, ack, error: undefined };
  }
  const what = n === 0 ? "no frame" : `${n} arguments (the second is ${describe(args[1])})`;
  const error = new SessionChannelError(
    "DECODE_FAILED",
    `event dropped: a psession event carries one frame, not ${what}`,
  );
  return { frame: undefined, via: undefined, ack, error };
}
