import type { Socket } from "node:net";
import {
  DEFAULT_MAX_FRAME_BYTES,
  heartbeatSettings,
  maxFrameBytesSetting,
  SessionChannelError,
  type HeartbeatOptions,
  type Role,
  type Serializer,
  type Transport,
} from "psession";
import { endSocket } from "./end-socket.js";
import { FairReader } from "./fair-reader.js";
import type { FrameDecoder, FrameSink } from "./frame-decoder.js";
import { HEARTBEAT_KEY, Heartbeat, PING, PONG } from "./heartbeat.js";
import { HEADER_BYTES, LengthPrefixDecoder, NON_ASCII, latin1Header } from "./length-prefix.js";
import { NdjsonDecoder, ndjsonFrame } from "./ndjson.js";
import { jsonSerializer } from "./serializer.js";
import { SUSPECT_FRAMES, stackless } from "./stackless.js";

export const LABEL = "@psession/net";

/**
 * How messages are delimited on the byte stream.
 * - `"ndjson"` (default): one JSON text per line. Readable in `nc`, easy for firmware and scripts.
 * - `"length-prefix"`: a 4-byte big-endian byte count, then the payload. Carries binary serializers.
 */
export type Framing = "ndjson" | "length-prefix";

/** The options only this adapter has; `serializer`, `heartbeat` and `maxFrameBytes` are every adapter's. */
export interface NetOptions {
  /** Default "ndjson". */
  framing?: Framing;
  /** Disable Nagle's algorithm on the socket (default true: request/response traffic wants it off). */
  noDelay?: boolean;
}

export interface SocketTransportOptions extends NetOptions {
  /** The role a port attached to this transport takes by default ("client" or "server"). */
  role?: Role;
  /** Largest frame payload accepted or sent, in bytes (default 1 MiB). A bigger inbound frame destroys the connection. */
  maxFrameBytes?: number;
  /** Default JSON. */
  serializer?: Serializer;
  /** Ping an idle peer and drop a silent one. Off by default (a plain line peer never sees a ping). */
  heartbeat?: HeartbeatOptions;
  /** Framing, decoding and heartbeat failures. `attach` sends them to the manager's "error" event with the port. */
  report?: (error: Error) => void;
}

/**
 * A psession Transport over one socket. `attach` makes one per connection; use it directly for
 * raw access. It lives as long as the socket: framing goes on after psession lets go of it.
 */
export interface SocketTransport extends Transport<unknown> {
  readonly socket: Socket;
  readonly channel: Socket;
  readonly role: Role | undefined;
  /** True once the connection is closed or being closed; sends throw from then on. */
  readonly closed: boolean;
  /** Bytes queued toward the peer: the socket's `writableLength` plus this tick's batch. */
  readonly bufferedAmount: number;
  /**
   * The socket's own counters, `bytesWritten` / `bytesRead`, since this transport was made: every
   * byte handed to it or read from it, framing (newlines, length prefixes) and heartbeat frames
   * included. Kept once it is closed.
   */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /**
   * With a heartbeat: when the peer last showed life (epoch ms), as of the heartbeat tick after a
   * chunk came, so at most one interval late. Undefined without a heartbeat.
   */
  readonly lastSeen: number | undefined;
  onClose(listener: (reason?: unknown) => void): () => void;
  onDrain(listener: () => void): () => void;
  /** Stops reading from the peer (TCP flow control pushes back on it) until `resume()`. */
  pause(): void;
  resume(): void;
  /**
   * Flushes what was written, then closes the socket (destroyed if the peer has not taken it 2 s
   * later: a peer that reads nothing cannot hold the connection). Close listeners run at once.
   */
  close(): void;
  /** Destroys the socket now. Close listeners run at once with `reason`. */
  destroy(reason?: unknown): void;
}

export { DEFAULT_MAX_FRAME_BYTES };
/** Most bytes of answers held back while a peer's backlog is decoded (see flush). */
const COALESCE_BYTES = 16 * 1024;
const MAX_LENGTH_PREFIX = 0xffffffff;

type MessageListener = (message: unknown) => void;
type CloseListener = (reason?: unknown) => void;

/** Validated framing, frame limit and heartbeat; throws on bad options. */
export function netSettings(options: SocketTransportOptions): {
  framing: Framing;
  max: number;
  beat: Required<HeartbeatOptions> | undefined;
} {
  const framing = options.framing ?? "ndjson";
  if (framing !== "ndjson" && framing !== "length-prefix") {
    throw new TypeError(`${LABEL}: unknown framing ${JSON.stringify(framing)} (use "ndjson" or "length-prefix")`);
  }
  const max = maxFrameBytesSetting(
    options.maxFrameBytes,
    LABEL,
    framing === "length-prefix" ? MAX_LENGTH_PREFIX : undefined,
  );
  return { framing, max, beat: heartbeatSettings(options.heartbeat, LABEL) };
}

/** Wraps `socket` in a framed, serialized Transport. Takes over the socket's "data" events. */
export function createSocketTransport(socket: Socket, options: SocketTransportOptions = {}): SocketTransport {
  const { framing, max, beat } = netSettings(options);
  const serializer = options.serializer ?? jsonSerializer;
  const json = serializer === jsonSerializer;
  const ndjson = framing === "ndjson";
  const onError =
    options.report ??
    ((error: Error) => {
      console.warn(`[${LABEL}] ${error.message}`);
    });

  let messageListeners: MessageListener[] = [];
  let closeListeners: CloseListener[] = [];
  let drainListeners: (() => void)[] = [];
  let closed = false;
  let socketError: Error | undefined;
  /** The socket's byte counters as last read (see bytesSent); what it carried before is not ours. */
  const wroteBefore = socket.bytesWritten ?? 0;
  const readBefore = socket.bytesRead ?? 0;
  let wroteBytes = wroteBefore;
  let readBytes = readBefore;

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

  /** Frames left to decode without stack traces after an undecodable one (see stackless.ts). */
  let suspect = 0;
  const decodeFailed = (bytes: number, error: unknown): void => {
    suspect = SUSPECT_FRAMES;
    const reason = error instanceof Error ? error.message : String(error);
    const failure = stackless(
      (cause: unknown) =>
        new SessionChannelError(
          "DECODE_FAILED",
          `could not decode a ${bytes}-byte ${framing} frame (dropped): ${reason}`,
          {
            cause,
          },
        ),
      error,
    );
    onError(failure);
  };
  const decodeBytes = (payload: Buffer): unknown =>
    json ? JSON.parse(payload.toString()) : serializer.decode(payload);

  const sink: FrameSink = {
    frame(buffer, start, end) {
      let message: unknown;
      try {
        if (suspect > 0) {
          suspect--;
          message = stackless(decodeBytes, buffer.subarray(start, end));
        } else {
          message = json
            ? JSON.parse(buffer.toString(undefined, start, end))
            : serializer.decode(buffer.subarray(start, end));
        }
      } catch (error) {
        decodeFailed(end - start, error);
        return;
      }
      dispatch(message);
    },
    oversize(bytes, limit) {
      const error = new SessionChannelError(
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
        if (suspect > 0) {
          suspect--;
          message = stackless(JSON.parse, text);
        } else message = JSON.parse(text);
      } catch (error) {
        decodeFailed(Buffer.byteLength(text), error);
        return;
      }
      dispatch(message);
    };
  }

  const decoder: FrameDecoder = ndjson ? new NdjsonDecoder(max, sink) : new LengthPrefixDecoder(max, sink);
  // A bounded slice of decoding per turn: a flooding peer cannot starve the other connections.
  const reader = new FairReader(socket, decoder, {
    fair: options.role === "server",
    crashed: (error) => crashed(error),
    idle: () => flush(),
  });

  const heartbeat =
    beat === undefined
      ? undefined
      : new Heartbeat(
          beat,
          () => {
            if (socket.connecting) return false;
            trySend(PING);
            return true;
          },
          () => {
            const error = new SessionChannelError(
              "HEARTBEAT_TIMEOUT",
              `heartbeat: no pong within ${beat.timeout} ms of a ping (sent after ${beat.interval} ms of silence): connection destroyed`,
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

  /** One socket write; with drain listeners it gets a completion callback (a shared function, no allocation). */
  const put = (data: string | Uint8Array, encoding: BufferEncoding = "utf8"): void => {
    if (!socket.writable) return;
    if (drainListeners.length === 0) {
      socket.write(data, encoding);
      return;
    }
    socket.write(data, encoding, written);
    if (socket.writableLength > 0) backlogged = true;
  };

  /**
   * Writes what this tick queued. While the reader is still decoding this peer's backlog in later
   * turns, answers wait (up to COALESCE_BYTES) and leave together once it is done: one write per
   * burst, not one per slice.
   */
  const flush = (force = false): void => {
    flushScheduled = false;
    const queued = ndjson ? text.length : total;
    if (queued === 0 || (!force && reader.decoding && queued < COALESCE_BYTES)) return;
    if (ndjson) {
      const out = text;
      text = "";
      put(out);
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
    put(offset === total ? out : out.subarray(0, offset));
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
    put(out, "latin1");
    return true;
  };

  const write = (payload: string | Uint8Array): void => {
    if (ndjson) {
      if (typeof payload === "string") {
        // A UTF-16 unit is at most 3 UTF-8 bytes: measure only strings that might be too long.
        if (payload.length * 3 > max) checkSize(Buffer.byteLength(payload));
        // JSON.stringify never writes a raw newline; any other serializer might, and one would
        // split the frame in two on the far side.
        if (!json && payload.indexOf("\n") !== -1) {
          throw new TypeError(
            "the serializer's output contains a newline: NDJSON cannot carry it; use length-prefix framing",
          );
        }
        text += `${payload}\n`;
      } else {
        // Binary payloads with NDJSON are rare (see Serializer): written at once, after the text queued before them.
        checkSize(payload.length);
        const frame = ndjsonFrame(payload);
        if (text.length > 0) {
          put(text);
          text = "";
        }
        put(frame);
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

  const send = (message: unknown): void | Promise<void> => {
    if (closed) throw new SessionChannelError("CLOSED", "the connection is closed");
    if (!socket.writable) {
      throw new SessionChannelError(
        socket.destroyed ? "CLOSED" : "NOT_OPEN",
        "the socket is not writable (ended or ending)",
      );
    }
    write(json ? jsonSerializer.encode(message) : serializer.encode(message));
    // Node queues what is written while connecting; the send completes once connected.
    if (socket.connecting) return connected();
  };

  /** Settles once the socket connected, or failed to: shared by every send made meanwhile. */
  let connecting: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;
  const connected = (): Promise<void> => {
    if (connecting === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Marked handled: a raw caller may ignore it; the close is reported through onClose anyway.
      promise.catch(() => {});
      connecting = { promise, resolve, reject };
      socket.once("connect", onConnect);
    }
    return connecting.promise;
  };
  const onConnect = (): void => {
    const waiting = connecting;
    connecting = undefined;
    waiting?.resolve();
  };

  const written = (): void => {
    if (backlogged && bufferedAmount() === 0) drained();
  };
  let backlogged = false;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const bufferedAmount = (): number => socket.writableLength + (ndjson ? text.length : total);
  const drained = (): void => {
    backlogged = false;
    for (const listener of drainListeners) {
      try {
        listener();
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
  const onSocketDrain = (): void => {
    if (backlogged && bufferedAmount() === 0) drained();
  };
  const pollDrain = (): void => {
    if (drainTimer !== undefined) return;
    const check = (): void => {
      drainTimer = undefined;
      if (!backlogged || closed) return;
      if (bufferedAmount() === 0) drained();
      else drainTimer = setTimeout(check, 10);
    };
    drainTimer = setTimeout(check, 10);
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
    reader.stop();
    heartbeat?.stop();
    unlisten();
    if (destroy && !socket.destroyed) socket.destroy();
    messageListeners = [];
    drainListeners = [];
    const waiting = connecting;
    connecting = undefined;
    if (waiting !== undefined) {
      const why = reason instanceof Error ? reason.message : String(reason);
      const failure = new SessionChannelError("CLOSED", `the socket closed before it connected (${why})`, {
        cause: reason,
      });
      if (!destroy && socket.connecting) {
        // close() flushes: what was written still leaves if the socket connects.
        socket.once("connect", waiting.resolve);
        socket.once("close", () => waiting.reject(failure));
      } else waiting.reject(failure);
    }
    const listeners = closeListeners;
    closeListeners = [];
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** Removes every listener but the error listener (kept, so that a late error is never uncaught). */
  function unlisten(): void {
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onClose);
    socket.off("drain", onSocketDrain);
    socket.off("connect", onConnect);
  }

  /** Something threw inside a socket listener: report it and destroy this connection only. */
  const crashed = (error: unknown): void => {
    try {
      const failure = new SessionChannelError(
        "CLOSED",
        `a socket listener failed (${error instanceof Error ? error.message : String(error)}): connection destroyed`,
        { cause: error },
      );
      onError(failure);
      shutdown(failure, true);
    } catch {
      if (!socket.destroyed) socket.destroy();
    }
  };

  const onData = (chunk: Buffer | string): void => {
    try {
      if (heartbeat !== undefined) heartbeat.alive = true;
      reader.data(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
    } catch (error) {
      crashed(error);
    }
  };
  const onEnd = (): void => {
    try {
      // The peer will send nothing more, so nothing pending can be answered. Finish our side too
      // (Node does it already unless the socket allows half-open).
      if (socket.writable) {
        flush(true);
        socket.end();
      }
      shutdown(new SessionChannelError("CLOSED", "the peer ended the connection"), false);
    } catch (error) {
      crashed(error);
    }
  };
  const onClose = (): void => {
    try {
      shutdown(socketError ?? new SessionChannelError("CLOSED", "the connection closed"), false);
    } catch {
      // nothing may escape a socket listener
    }
  };
  const onSocketError = (error: Error): void => {
    // "close" follows; its listeners get this error as the reason. Kept after shutdown so that a
    // late error on a destroyed socket is not an uncaught exception.
    socketError ??= error;
  };

  socket.on("error", onSocketError);
  if (socket.destroyed) {
    closed = true;
    heartbeat?.stop();
  } else {
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    socket.on("drain", onSocketDrain);
    if (options.noDelay !== false && typeof socket.setNoDelay === "function") socket.setNoDelay(true);
  }

  const transport: SocketTransport & { abandon(): void } = {
    socket,
    channel: socket,
    role: options.role,
    get closed() {
      return closed;
    },
    get bufferedAmount() {
      return bufferedAmount();
    },
    get bytesSent() {
      const n = socket.bytesWritten;
      if (typeof n === "number") wroteBytes = n;
      return wroteBytes - wroteBefore;
    },
    get bytesReceived() {
      const n = socket.bytesRead;
      if (typeof n === "number") readBytes = n;
      return readBytes - readBefore;
    },
    get lastSeen() {
      const seen = heartbeat?.seen;
      return seen === undefined || seen === 0 ? undefined : seen;
    },
    send,
    onMessage(listener) {
      if (closed) return () => {};
      messageListeners = [...messageListeners, listener];
      return () => {
        messageListeners = without(messageListeners, listener);
      };
    },
    onClose(listener) {
      if (closed) {
        // Already closed: tell the listener, after attach() has finished wiring up.
        queueMicrotask(() =>
          listener(socketError ?? new SessionChannelError("CLOSED", "the connection was already closed")),
        );
        return () => {};
      }
      closeListeners = [...closeListeners, listener];
      return () => {
        closeListeners = without(closeListeners, listener);
      };
    },
    onDrain(listener) {
      drainListeners = [...drainListeners, listener];
      // Writes made before this had no completion callback: watch the backlog by polling.
      if (bufferedAmount() > 0) {
        backlogged = true;
        pollDrain();
      }
      return () => {
        drainListeners = without(drainListeners, listener);
      };
    },
    pause() {
      if (!closed) reader.pause();
    },
    resume() {
      if (!closed) reader.resume();
    },
    close() {
      if (closed) return;
      flush(true);
      endSocket(socket);
      shutdown(new SessionChannelError("CLOSED", "the connection was closed locally"), false);
    },
    destroy(reason) {
      shutdown(reason ?? new SessionChannelError("CLOSED", "the connection was destroyed locally"), true);
    },
    abandon() {
      // attach() refused this transport before anyone listened: leave the socket as it was.
      if (messageListeners.length > 0 || closeListeners.length > 0) return;
      closed = true;
      decoder.stop();
      reader.stop();
      heartbeat?.stop();
      unlisten();
    },
  };
  return transport;
}

function without<T>(list: T[], item: T): T[] {
  const i = list.indexOf(item);
  return i === -1 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}
