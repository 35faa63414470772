import type { Socket } from "node:net";
import type { Transport } from "psession";
import { NetChannelError } from "./errors.js";
import type { FrameDecoder, FrameSink } from "./frame-decoder.js";
import { HEARTBEAT_KEY, Heartbeat, PING, PONG, type HeartbeatOptions } from "./heartbeat.js";
import { HEADER_BYTES, LengthPrefixDecoder, NON_ASCII, latin1Header } from "./length-prefix.js";
import { NdjsonDecoder, ndjsonFrame } from "./ndjson.js";
import { jsonSerializer, type Serializer } from "./serializer.js";

/**
 * How messages are delimited on the byte stream.
 * - `"ndjson"` (default): one JSON text per line. Readable in `nc`, easy for firmware and scripts.
 * - `"length-prefix"`: a 4-byte big-endian byte count, then the payload. Carries binary serializers.
 */
export type Framing = "ndjson" | "length-prefix";

export interface NetOptions {
  /** Default "ndjson". */
  framing?: Framing;
  /** Largest frame payload accepted or sent, in bytes (default 1 MiB). A bigger inbound frame destroys the connection. */
  maxFrameBytes?: number;
  /** Default JSON. */
  serializer?: Serializer;
  /** Ping an idle peer and drop a silent one. Off by default (a plain line peer never sees a ping). */
  heartbeat?: HeartbeatOptions;
  /** Disable Nagle's algorithm on the socket (default true: request/response traffic wants it off). */
  noDelay?: boolean;
}

export interface SocketTransportOptions extends NetOptions {
  /** Framing, decoding and heartbeat failures. `attach` sends them to the manager's "error" event. */
  onError?: (error: Error) => void;
}

/** A psession Transport over one socket. `attach` makes one per connection; use it directly for raw access. */
export interface SocketTransport extends Transport<unknown> {
  readonly socket: Socket;
  /** True once the connection is closed or being closed; sends throw from then on. */
  readonly closed: boolean;
  onClose(listener: (reason?: unknown) => void): () => void;
  /** Flushes what was written, then closes the socket. Close listeners run at once. */
  close(): void;
  /** Destroys the socket now. Close listeners run at once with `reason`. */
  destroy(reason?: unknown): void;
}

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
const MAX_LENGTH_PREFIX = 0xffffffff;

type MessageListener = (message: unknown) => void;
type CloseListener = (reason?: unknown) => void;

/** Wraps `socket` in a framed, serialized Transport. Takes over the socket's "data" events. */
export function createSocketTransport(socket: Socket, options: SocketTransportOptions = {}): SocketTransport {
  const framing = options.framing ?? "ndjson";
  if (framing !== "ndjson" && framing !== "length-prefix") {
    throw new TypeError(`@psession/net: unknown framing ${JSON.stringify(framing)} (use "ndjson" or "length-prefix")`);
  }
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!(max > 0) || !Number.isInteger(max) || (framing === "length-prefix" && max > MAX_LENGTH_PREFIX)) {
    throw new RangeError(`@psession/net: maxFrameBytes must be a positive integer (at most 2^32-1 with length-prefix)`);
  }
  const serializer = options.serializer ?? jsonSerializer;
  const json = serializer === jsonSerializer;
  const ndjson = framing === "ndjson";
  const onError =
    options.onError ??
    ((error: Error) => {
      console.warn(`[@psession/net] ${error.message}`);
    });

  let messageListeners: MessageListener[] = [];
  const closeListeners: CloseListener[] = [];
  let closed = false;
  let socketError: Error | undefined;

  const dispatch = (message: unknown): void => {
    if (typeof message === "object" && message !== null) {
      const hb = (message as Record<string, unknown>)[HEARTBEAT_KEY];
      if (hb !== undefined && (hb === "ping" || hb === "pong")) {
        if (hb === "ping" && !closed) trySend(PONG);
        return;
      }
    }
    const listeners = messageListeners;
    if (listeners.length === 1) listeners[0]!(message);
    else for (let i = 0; i < listeners.length; i++) listeners[i]!(message);
  };

  const decodeFailed = (bytes: number, error: unknown): void => {
    onError(
      new NetChannelError(
        "DECODE_FAILED",
        `could not decode a ${bytes}-byte ${framing} frame (dropped): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      ),
    );
  };

  const sink: FrameSink = {
    frame(buffer, start, end) {
      let message: unknown;
      try {
        message = json ? JSON.parse(buffer.toString(undefined, start, end)) : serializer.decode(buffer.subarray(start, end));
      } catch (error) {
        decodeFailed(end - start, error);
        return;
      }
      dispatch(message);
    },
    oversize(bytes, limit) {
      const error = new NetChannelError(
        "FRAME_TOO_LARGE",
        ndjson
          ? `an NDJSON line reached ${bytes} bytes, over maxFrameBytes ${limit}: connection destroyed`
          : `a frame header announced ${bytes} bytes, over maxFrameBytes ${limit}: connection destroyed`,
      );
      onError(error);
      shutdown(error, true);
    },
  };
  if (json) {
    sink.line = (text) => {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch (error) {
        decodeFailed(Buffer.byteLength(text), error);
        return;
      }
      dispatch(message);
    };
  }

  const decoder: FrameDecoder = ndjson ? new NdjsonDecoder(max, sink) : new LengthPrefixDecoder(max, sink);

  const heartbeat =
    options.heartbeat === undefined
      ? undefined
      : new Heartbeat(
          options.heartbeat,
          () => trySend(PING),
          (silentFor) => {
            const error = new NetChannelError(
              "HEARTBEAT_TIMEOUT",
              `no data from the peer for ${silentFor} ms (heartbeat timeout ${options.heartbeat!.timeout} ms): connection destroyed`,
            );
            onError(error);
            shutdown(error, true);
          },
        );

  // Frames written in one tick leave in one write (one syscall) when the tick ends: a burst of
  // requests or of handler replies costs one write, not one per message. NDJSON text is
  // concatenated; length-prefixed payloads are copied, headers and all, into one buffer.
  let text = ""; // NDJSON
  let payloads: (string | Uint8Array)[] = []; // length-prefix
  let total = 0; // bytes reserved for `payloads`, headers included
  let flushScheduled = false;

  const flush = (): void => {
    flushScheduled = false;
    if (ndjson) {
      const out = text;
      text = "";
      if (socket.writable) socket.write(out);
      return;
    }
    const parts = payloads;
    payloads = [];
    if (json && writeAsciiBatch(parts)) {
      total = 0;
      return;
    }
    const out = Buffer.allocUnsafe(total);
    total = 0;
    let offset = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      let size: number;
      if (typeof part === "string") {
        size = out.write(part, offset + HEADER_BYTES);
      } else {
        out.set(part, offset + HEADER_BYTES);
        size = part.length;
      }
      out.writeUInt32BE(size, offset);
      offset += HEADER_BYTES + size;
    }
    if (socket.writable) socket.write(offset === total ? out : out.subarray(0, offset));
  };

  // JSON text is almost always ASCII, where latin1 and UTF-8 agree: then the whole batch, headers
  // as latin1 characters, leaves as one string in one native encode instead of one per frame.
  const writeAsciiBatch = (parts: (string | Uint8Array)[]): boolean => {
    let out = "";
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (typeof part !== "string" || NON_ASCII.test(part)) return false;
      out += latin1Header(part.length) + part;
    }
    if (socket.writable) socket.write(out, "latin1");
    return true;
  };

  const write = (payload: string | Uint8Array): void => {
    if (ndjson) {
      if (typeof payload === "string") {
        // A UTF-16 unit is at most 3 UTF-8 bytes: measure only strings that might be too long.
        if (payload.length * 3 > max) checkSize(Buffer.byteLength(payload));
        text += payload + "\n";
      } else {
        // Binary payloads with NDJSON are rare (see Serializer): written at once, after the text queued before them.
        checkSize(payload.length);
        const frame = ndjsonFrame(payload);
        if (text.length > 0) {
          socket.write(text);
          text = "";
        }
        socket.write(frame);
        return;
      }
    } else {
      // Room for the payload: short strings get their worst case (3 bytes per UTF-16 unit) and
      // are measured by the write itself; long ones are measured now.
      let room: number;
      if (typeof payload !== "string") room = payload.length;
      else if (payload.length <= 16_384) room = payload.length * 3;
      else room = Buffer.byteLength(payload);
      if (room > max) checkSize(typeof payload === "string" ? Buffer.byteLength(payload) : room);
      payloads.push(payload);
      total += HEADER_BYTES + room;
    }
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flush);
    }
  };

  const checkSize = (bytes: number): void => {
    if (bytes > max) throw new RangeError(`message of ${bytes} bytes is over maxFrameBytes ${max}: not sent`);
  };

  const send = (message: unknown): void => {
    if (closed || !socket.writable) throw new Error("the socket is closed");
    write(json ? jsonSerializer.encode(message) : serializer.encode(message));
  };

  function trySend(message: unknown): void {
    try {
      send(message);
    } catch {
      // a control frame on a closing socket: nothing to do
    }
  }

  function shutdown(reason: unknown, destroy: boolean): void {
    if (closed) return;
    closed = true;
    if (destroy) {
      text = "";
      payloads = [];
      total = 0;
    }
    decoder.stop();
    heartbeat?.stop();
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onClose);
    if (destroy && !socket.destroyed) socket.destroy();
    messageListeners = [];
    for (const listener of closeListeners.splice(0)) listener(reason);
  }

  const onData = (chunk: Buffer | string): void => {
    if (heartbeat !== undefined) heartbeat.alive = true;
    decoder.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
  };
  const onEnd = (): void => {
    // The peer will send nothing more, so nothing pending can be answered. Finish our side too
    // (Node does it already unless the socket allows half-open).
    if (socket.writable) {
      if (flushScheduled) flush();
      socket.end();
    }
    shutdown(new Error("the peer ended the connection"), false);
  };
  const onClose = (): void => shutdown(socketError ?? new Error("the connection closed"), false);
  const onSocketError = (error: Error): void => {
    // "close" follows; its listeners get this error as the reason. Kept after shutdown so that a
    // late error on a destroyed socket is not an uncaught exception.
    socketError ??= error;
  };

  socket.on("error", onSocketError);
  if (socket.destroyed) {
    closed = true;
  } else {
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    if (options.noDelay !== false && typeof socket.setNoDelay === "function") socket.setNoDelay(true);
  }

  return {
    socket,
    get closed() {
      return closed;
    },
    send,
    onMessage(listener) {
      if (closed) return () => {};
      messageListeners = [...messageListeners, listener];
      return () => {
        messageListeners = messageListeners.filter((l) => l !== listener);
      };
    },
    onClose(listener) {
      if (closed) {
        // Already closed: tell the listener, after attach() has finished wiring up.
        queueMicrotask(() => listener(socketError ?? new Error("the connection was already closed")));
        return () => {};
      }
      closeListeners.push(listener);
      return () => {
        const i = closeListeners.indexOf(listener);
        if (i >= 0) closeListeners.splice(i, 1);
      };
    },
    close() {
      if (closed) return;
      if (flushScheduled) flush();
      if (socket.writable) socket.end(() => socket.destroy());
      else socket.destroy();
      shutdown(new Error("the connection was closed locally"), false);
    },
    destroy(reason) {
      shutdown(reason ?? new Error("the connection was destroyed locally"), true);
    },
  };
}
