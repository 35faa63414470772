import {
  DEFAULT_MAX_FRAME_BYTES,
  frameCost,
  ReadBudget,
  SessionChannelError,
  type HeartbeatOptions,
  type Role,
  type Serializer,
  type Transport,
} from "psession";
import { closeSocket } from "./close-socket.js";
import { Heartbeat } from "./heartbeat.js";
import { SUSPECT_FRAMES, stackless } from "./stackless.js";
import { bytesOf, jsonSerializer, sizeOf, textOf, utf8Length } from "./serializer.js";
import { CLOSED, CONNECTING, OPEN, type WebSocketLike } from "./types.js";

const STATES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];
/** The TCP socket under a `ws` socket, as far as corking goes. */
interface Corkable {
  cork?(): void;
  uncork(): void;
  readonly writableLength: number;
}

/** The byte counters of the TCP socket under a `ws` socket (Node's `net.Socket`). */
interface WireCounters {
  readonly bytesWritten?: number;
  readonly bytesRead?: number;
}

/**
 * `bytesSent` / `bytesReceived` of a transport over a `ws` socket (Node), put on the instance so a
 * browser socket, which cannot count, has none: statistics then say undefined rather than 0.
 */
const WIRE_COUNTERS: PropertyDescriptorMap = {
  bytesSent: {
    get(this: SocketTransport): number {
      return this.wireBytes(true);
    },
  },
  bytesReceived: {
    get(this: SocketTransport): number {
      return this.wireBytes(false);
    },
  },
};

/** Most bytes of answers held back (corked) while a busy connection's inbox is delivered. */
const COALESCE_BYTES = 16 * 1024;

/** A `ws` WebSocket (Node): EventEmitter API, ping/pong, pause/resume, write callbacks. */
interface NodeSocket extends WebSocketLike {
  // biome-ignore lint/suspicious/noExplicitAny: socket event signatures differ between ws and browsers
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: socket event signatures differ between ws and browsers
  off(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: socket event signatures differ between ws and browsers
  send(data: any, callback?: (error?: Error) => void): void;
  ping(): void;
  terminate(): void;
  pause?(): void;
  resume?(): void;
}

/** A browser (WHATWG) WebSocket. */
interface BrowserSocket extends WebSocketLike {
  binaryType: string;
  // biome-ignore lint/suspicious/noExplicitAny: socket event signatures differ between ws and browsers
  addEventListener(type: string, listener: (event: any) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: socket event signatures differ between ws and browsers
  removeEventListener(type: string, listener: (event: any) => void): void;
}

export interface SocketTransportOptions {
  /** The role a port attached to this transport takes by default ("client" or "server"). */
  role?: Role;
  /** Frame codec (default JSON text frames). */
  serializer?: Serializer;
  /** Validated heartbeat settings (`heartbeatSettings()` from psession). `ws` sockets only. */
  heartbeat?: Required<HeartbeatOptions>;
  /** Largest frame accepted or sent (default 1 MiB). */
  maxFrameBytes?: number;
  /** Where channel errors go; `attach` sends them to the manager's "error" event with the port. */
  report?: (error: Error) => void;
}

type MessageListener = (message: unknown) => void;
type CloseListener = (reason?: unknown) => void;

interface Queued {
  data: string | Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * One WebSocket as a psession Transport: encode/decode, report what cannot be decoded, tell the
 * core when the connection is gone. Routing, sids, retries and timeouts are the core's.
 *
 * Its `error` and `close` listeners stay on the socket until the socket has closed, whatever
 * psession does meanwhile (a port destroyed or moved to a newer connection): a late socket error
 * is reported, never an uncaught exception. Message listeners and the heartbeat run only while
 * someone listens (`onMessage`).
 */
export class SocketTransport implements Transport<unknown> {
  readonly role: Role | undefined;
  /** The socket (also `socket`): `attach()` refuses a socket that is already attached. */
  readonly channel: WebSocketLike;
  /** Stops reading from the peer (`ws` sockets only). */
  declare readonly pause?: () => void;
  /** Reads from the peer again (`ws` sockets only). */
  declare readonly resume?: () => void;
  /**
   * `ws` sockets (Node) only: bytes the TCP socket under the WebSocket has written and read since
   * this transport was made (its `bytesWritten` / `bytesRead`): WebSocket framing, pings, pongs and
   * close frames included, and the HTTP upgrade when the transport was made before the socket
   * opened; over `wss`, as Node's TLS socket counts them. Kept once the socket is gone. Absent for
   * a browser WebSocket, which cannot tell.
   */
  declare readonly bytesSent?: number;
  declare readonly bytesReceived?: number;
  private readonly node: boolean;
  private readonly serializer: Serializer;
  private readonly maxFrameBytes: number;
  private readonly heartbeatSettings: Required<HeartbeatOptions> | undefined;
  private readonly report: (error: Error) => void;
  private messageListeners: MessageListener[] = [];
  private closeListeners: CloseListener[] = [];
  private drainListeners: (() => void)[] = [];
  private watching = false;
  private reading = false;
  private wasOpen: boolean;
  /** Why the connection is gone, once it is. */
  private lostReason: Error | undefined = undefined;
  private heartbeat: Heartbeat | undefined = undefined;
  /** Sends made while the socket was connecting, in order. */
  private queue: Queued[] | undefined = undefined;
  private backlogged = false;
  private drainTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Server connections (`ws` sockets): one bounded slice of frames per turn, see ReadBudget. */
  private readonly budget: ReadBudget | undefined;
  /** Frames read but not delivered yet (slice spent, or paused): data, isBinary, data, isBinary… */
  private inbox: unknown[] | undefined = undefined;
  private inboxHead = 0;
  /** The core paused reading (back-pressure): nothing is delivered until resume(). */
  private held = false;
  private continuing = false;
  /** The TCP socket under a busy connection, corked while its inbox is delivered (see corkAnswers). */
  private corked: Corkable | undefined = undefined;
  /** Frames left to decode without stack traces after an undecodable one (see stackless.ts). */
  private suspect = 0;
  /** The TCP socket's counters as last read, and as they were when this transport was made (see wireBytes). */
  private wroteBytes = 0;
  private readBytes = 0;
  private wroteBefore = 0;
  private readBefore = 0;

  constructor(socket: WebSocketLike, options: SocketTransportOptions = {}) {
    this.channel = socket;
    this.role = options.role;
    this.node = typeof (socket as Partial<NodeSocket>).on === "function";
    this.serializer = options.serializer ?? jsonSerializer;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.heartbeatSettings = options.heartbeat;
    this.report = options.report ?? ((error) => console.warn(`[@psession/ws] ${error.message}`));
    this.wasOpen = socket.readyState === OPEN;
    const s = socket as NodeSocket;
    const pausable = this.node && typeof s.pause === "function" && typeof s.resume === "function";
    if (pausable) {
      const self = this as { pause?: () => void; resume?: () => void };
      self.pause = () => this.hold();
      self.resume = () => this.release();
    }
    this.budget = pausable && options.role === "server" ? new ReadBudget() : undefined;
    if (socket.readyState === CLOSED)
      this.lostReason = new SessionChannelError("CLOSED", "the WebSocket was already closed");
    else this.watch();
    if (this.node) {
      // What an open socket carried before this transport is not its own (a second attach, the upgrade).
      this.wroteBefore = this.wroteBytes = this.wireBytes(true);
      this.readBefore = this.readBytes = this.wireBytes(false);
      Object.defineProperties(this, WIRE_COUNTERS);
    }
  }

  /** The socket (same as `channel`). */
  get socket(): WebSocketLike {
    return this.channel;
  }

  /** True once the connection is closed or declared dead; sends throw from then on. */
  get closed(): boolean {
    return this.lostReason !== undefined;
  }

  /**
   * When the peer last showed life (epoch ms): the heartbeat tick after a frame or pong came, so at
   * most one heartbeat interval late. Undefined without a heartbeat (`ws` sockets only).
   */
  get lastSeen(): number | undefined {
    const seen = this.heartbeat?.seen;
    return seen === undefined || seen === 0 ? undefined : seen;
  }

  /**
   * @internal `bytesSent` (`written`) or `bytesReceived`: the counter of the TCP socket under the
   * `ws` socket (its `_socket`, set once connected), or the last value read when there is none,
   * less what it had counted when this transport was made.
   */
  wireBytes(written: boolean): number {
    const tcp = (this.channel as { _socket?: WireCounters | null })._socket;
    if (tcp !== undefined && tcp !== null) {
      const n = written ? tcp.bytesWritten : tcp.bytesRead;
      if (typeof n === "number") {
        if (written) this.wroteBytes = n;
        else this.readBytes = n;
      }
    }
    return written ? this.wroteBytes - this.wroteBefore : this.readBytes - this.readBefore;
  }

  /** Bytes queued toward the peer and not yet written (the socket's `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.channel.bufferedAmount ?? 0;
  }

  /**
   * Sends one message. Open: written at once. Connecting: the returned promise resolves once the
   * socket opened and the frame was written, and rejects if it closes first. Closing or closed:
   * throws a SessionChannelError (`NOT_OPEN`, `CLOSED`). Encoding failures and frames over
   * `maxFrameBytes` throw.
   */
  send(message: unknown): void | Promise<void> {
    if (this.lostReason === undefined) {
      const state = this.channel.readyState;
      if (state === OPEN && this.queue === undefined) {
        this.write(this.encode(message));
        return;
      }
      if (state === CONNECTING || (state === OPEN && this.queue !== undefined)) return this.later(this.encode(message));
    }
    throw this.notOpen();
  }

  onMessage(listener: MessageListener): () => void {
    this.messageListeners = [...this.messageListeners, listener];
    if (this.lostReason === undefined) this.startReading();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.messageListeners = without(this.messageListeners, listener);
      if (this.messageListeners.length === 0) this.stopReading();
    };
  }

  onClose(listener: CloseListener): () => void {
    const reason = this.lostReason;
    if (reason !== undefined) {
      // A socket that is already closed will never say so: tell the listener once attach() is done.
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.closeListeners = [...this.closeListeners, listener];
    return () => {
      this.closeListeners = without(this.closeListeners, listener);
    };
  }

  /** Calls `listener` when the bytes queued toward the peer have been written, after a backlog. */
  onDrain(listener: () => void): () => void {
    this.drainListeners = [...this.drainListeners, listener];
    // Writes made before this had no completion callback: watch the backlog by polling.
    if (this.bufferedAmount > 0) {
      this.backlogged = true;
      this.pollDrain();
    }
    return () => {
      this.drainListeners = without(this.drainListeners, listener);
    };
  }

  /**
   * Starts the closing handshake (code 1000); a `ws` peer that reads nothing is terminated 2 s
   * later if bytes are still queued toward it.
   */
  close(): void {
    closeSocket(this.channel, 1000);
  }

  /** @internal Removes every listener when attach() failed before anyone subscribed. */
  abandon(): void {
    if (this.messageListeners.length === 0 && this.closeListeners.length === 0) this.unwatch();
  }

  // ---- sending ------------------------------------------------------------------------------

  private encode(message: unknown): string | Uint8Array {
    const data = this.serializer.encode(message);
    const max = this.maxFrameBytes;
    let bytes: number;
    if (typeof data === "string") {
      // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need measuring.
      if (data.length * 3 <= max) return data;
      bytes = utf8Length(data);
    } else {
      if (data === null || typeof data !== "object" || typeof (data as Uint8Array).byteLength !== "number") {
        throw new TypeError(`the serializer returned ${data === null ? "null" : typeof data}, not a string or bytes`);
      }
      bytes = data.byteLength;
    }
    if (bytes > max) throw new RangeError(`message of ${bytes} bytes is over maxFrameBytes ${max}: not sent`);
    return data;
  }

  private write(data: string | Uint8Array): void {
    const socket = this.channel;
    if (this.drainListeners.length === 0) {
      socket.send(data);
      return;
    }
    if (this.node) (socket as NodeSocket).send(data, this.written);
    else socket.send(data);
    if (!this.backlogged && this.bufferedAmount > 0) {
      this.backlogged = true;
      if (!this.node) this.pollDrain();
    }
  }

  private later(data: string | Uint8Array): Promise<void> {
    const queue = (this.queue ??= []);
    const promise = new Promise<void>((resolve, reject) => void queue.push({ data, resolve, reject }));
    // Marked handled: a raw caller may ignore it; the close is reported through onClose anyway.
    promise.catch(() => {});
    return promise;
  }

  private flushQueue(): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue === undefined) return;
    for (const item of queue) {
      try {
        this.write(item.data);
        item.resolve();
      } catch (error) {
        item.reject(error);
      }
    }
  }

  private rejectQueue(reason: Error): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue === undefined) return;
    const error = new SessionChannelError("CLOSED", `the WebSocket closed before it opened (${reason.message})`, {
      cause: reason,
    });
    for (const item of queue) item.reject(error);
  }

  private notOpen(): SessionChannelError {
    const state = this.channel.readyState;
    const lost = this.lostReason;
    if (lost !== undefined && state < 2) {
      return new SessionChannelError("CLOSED", `the WebSocket connection is closed (${lost.message})`, { cause: lost });
    }
    return new SessionChannelError(
      state === CLOSED ? "CLOSED" : "NOT_OPEN",
      `WebSocket is not open (readyState ${state} ${STATES[state] ?? "?"})`,
    );
  }

  private readonly written = (): void => {
    if (this.backlogged && this.bufferedAmount === 0) this.drained();
  };

  private pollDrain(): void {
    if (this.drainTimer !== undefined) return;
    const check = (): void => {
      this.drainTimer = undefined;
      if (!this.backlogged || this.lostReason !== undefined) return;
      if (this.bufferedAmount === 0) this.drained();
      else this.drainTimer = setTimeout(check, 10);
    };
    this.drainTimer = setTimeout(check, 10);
  }

  private drained(): void {
    this.backlogged = false;
    for (const listener of this.drainListeners) {
      try {
        listener();
      } catch (error) {
        this.report(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  // ---- socket events ------------------------------------------------------------------------

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    if (this.node) {
      const s = this.channel as NodeSocket;
      s.on("close", this.nodeClose);
      s.on("error", this.failed);
      if (!this.wasOpen) s.on("open", this.opened);
    } else {
      const s = this.channel as BrowserSocket;
      s.addEventListener("close", this.browserClose);
      s.addEventListener("error", this.failed);
      if (!this.wasOpen) s.addEventListener("open", this.opened);
    }
  }

  private unwatch(): void {
    this.stopReading();
    if (!this.watching) return;
    this.watching = false;
    if (this.node) {
      const s = this.channel as NodeSocket;
      s.off("close", this.nodeClose);
      s.off("error", this.failed);
      s.off("open", this.opened);
    } else {
      const s = this.channel as BrowserSocket;
      s.removeEventListener("close", this.browserClose);
      s.removeEventListener("error", this.failed);
      s.removeEventListener("open", this.opened);
    }
  }

  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    if (this.node) {
      const s = this.channel as NodeSocket;
      s.on("message", this.nodeMessage);
      if (this.heartbeatSettings !== undefined && typeof s.ping === "function") {
        this.heartbeat = new Heartbeat(this.heartbeatSettings, this.ping, this.dead);
        s.on("pong", this.pong);
      }
    } else {
      const s = this.channel as BrowserSocket;
      // Blobs would make every binary frame asynchronous.
      if (s.binaryType === "blob") s.binaryType = "arraybuffer";
      s.addEventListener("message", this.browserMessage);
    }
  }

  private stopReading(): void {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    if (!this.reading) return;
    this.reading = false;
    if (this.node) {
      const s = this.channel as NodeSocket;
      s.off("message", this.nodeMessage);
      s.off("pong", this.pong);
      // Let go while reading was paused: the socket reads again for whoever has it now.
      this.uncorkAnswers();
      if (this.inbox !== undefined || this.held) {
        this.inbox = undefined;
        this.held = false;
        if (this.lostReason === undefined) s.resume?.();
      }
    } else {
      (this.channel as BrowserSocket).removeEventListener("message", this.browserMessage);
    }
  }

  private readonly nodeMessage = (data: unknown, isBinary: boolean): void => {
    const inbox = this.inbox;
    if (inbox !== undefined) {
      inbox.push(data, isBinary);
      return;
    }
    const budget = this.budget;
    if (this.held || (budget !== undefined && !budget.begin())) {
      this.defer(data, isBinary);
      return;
    }
    this.frame(data, isBinary);
    // Spent: the next frame of this turn waits in the inbox (see defer).
    if (budget !== undefined) budget.spend(frameCost(sizeOf(data)));
  };

  /**
   * This turn's slice is spent (or the core paused reading): the frame waits in the inbox, the
   * socket stops reading (TCP pushes back on the peer), and delivery goes on in a later turn. The
   * inbox holds at most what `ws` had already read: the rest of the current chunk.
   */
  private defer(data: unknown, isBinary: boolean): void {
    const heartbeat = this.heartbeat;
    if (heartbeat !== undefined) heartbeat.alive = true;
    this.inbox = [data, isBinary];
    this.inboxHead = 0;
    (this.channel as NodeSocket).pause!();
    if (!this.held) this.continueLater();
  }

  private continueLater(): void {
    if (this.continuing) return;
    this.continuing = true;
    setImmediate(this.continueInbox);
  }

  /** Delivers one slice of the inbox; reads from the socket again once it is empty. */
  private readonly continueInbox = (): void => {
    this.continuing = false;
    const inbox = this.inbox;
    if (inbox === undefined || this.held || this.lostReason !== undefined) return;
    const budget = this.budget;
    budget?.begin(true);
    this.corkAnswers();
    let i = this.inboxHead;
    while (i < inbox.length) {
      const data = inbox[i];
      const isBinary = inbox[i + 1] as boolean;
      inbox[i] = undefined;
      i += 2;
      this.frame(data, isBinary);
      if (this.held || this.lostReason !== undefined) break;
      if (budget !== undefined && !budget.spend(frameCost(sizeOf(data)))) break;
    }
    if (this.lostReason !== undefined) return;
    if (i < inbox.length) {
      this.inboxHead = i;
      if (this.held || (this.corked?.writableLength ?? 0) >= COALESCE_BYTES) this.uncorkAnswers();
      if (!this.held) this.continueLater();
      return;
    }
    this.inbox = undefined;
    this.uncorkAnswers();
    if (!this.held) (this.channel as NodeSocket).resume!();
  };

  /**
   * A busy connection's answers leave together: `ws` writes every message with its own syscall,
   * which would make each frame of a flooding peer cost the server several times its decoding.
   * While its inbox is delivered, the TCP socket under the `ws` socket (its `_socket`, when there is
   * one) is corked; it is uncorked once the inbox is empty, every COALESCE_BYTES, and when the core
   * pauses reading (back-pressure must see the bytes leave).
   */
  private corkAnswers(): void {
    if (this.corked !== undefined) return;
    const tcp = (this.channel as { _socket?: Corkable })._socket;
    if (tcp === undefined || typeof tcp.cork !== "function" || typeof tcp.uncork !== "function") return;
    tcp.cork();
    this.corked = tcp;
  }

  private uncorkAnswers(): void {
    const tcp = this.corked;
    if (tcp === undefined) return;
    this.corked = undefined;
    tcp.uncork();
  }

  /** The core's pause(): the frame being delivered is the last until release(). */
  private hold(): void {
    if (this.held || this.lostReason !== undefined) return;
    this.held = true;
    (this.channel as NodeSocket).pause!();
    this.uncorkAnswers();
  }

  /** The core's resume(). */
  private release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.lostReason !== undefined) return;
    if (this.inbox !== undefined) this.continueLater();
    else (this.channel as NodeSocket).resume!();
  }

  private readonly browserMessage = (event: { data: unknown }): void =>
    this.frame(event.data, typeof event.data !== "string");

  private readonly decodeQuietly = (payload: string | Uint8Array): unknown => this.serializer.decode(payload);

  /** One inbound frame. Nothing thrown here may reach the socket's emitter. */
  private frame(data: unknown, isBinary: boolean): void {
    try {
      const heartbeat = this.heartbeat;
      if (heartbeat !== undefined) heartbeat.alive = true;
      if (this.lostReason !== undefined) return;
      const max = this.maxFrameBytes;
      if (typeof data === "string" ? data.length * 3 > max && utf8Length(data) > max : sizeOf(data) > max) {
        this.oversize(typeof data === "string" ? utf8Length(data) : sizeOf(data));
        return;
      }
      let message: unknown;
      try {
        const payload = isBinary ? bytesOf(data) : textOf(data);
        if (this.suspect > 0) {
          this.suspect--;
          message = stackless(this.decodeQuietly, payload);
        } else message = this.serializer.decode(payload);
      } catch (error) {
        this.suspect = SUSPECT_FRAMES;
        const reason = error instanceof Error ? error.message : String(error);
        const what = isBinary ? "binary" : "text";
        const failure = stackless(
          (cause: unknown) =>
            new SessionChannelError(
              "DECODE_FAILED",
              `${what} frame dropped: the serializer could not decode it (${reason})`,
              {
                cause,
              },
            ),
          error,
        );
        this.report(failure);
        return;
      }
      const listeners = this.messageListeners;
      if (listeners.length === 1) listeners[0]!(message);
      else for (let i = 0; i < listeners.length; i++) listeners[i]!(message);
    } catch (error) {
      this.crashed(error);
    }
  }

  private readonly pong = (): void => {
    if (this.heartbeat !== undefined) this.heartbeat.alive = true;
  };

  private readonly opened = (): void => {
    this.wasOpen = true;
    try {
      this.flushQueue();
    } catch (error) {
      this.crashed(error);
    }
  };

  private readonly nodeClose = (code: number, reason: unknown): void => {
    this.unwatch();
    this.lost(closeError(code, reason === undefined ? "" : textOf(reason)));
  };

  private readonly browserClose = (event: { code: number; reason: string }): void => {
    this.unwatch();
    this.lost(closeError(event.code, event.reason));
  };

  /** A socket error (a failed connect, a protocol violation, a frame over maxPayload): report, then fail fast. */
  private readonly failed = (event: unknown): void => {
    try {
      const cause = event instanceof Error ? event : (event as { error?: unknown } | undefined)?.error;
      const detail = cause instanceof Error ? `: ${cause.message}` : "";
      const wsCode = (cause as { code?: unknown } | undefined)?.code;
      const code =
        wsCode === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? "FRAME_TOO_LARGE" : this.wasOpen ? "CLOSED" : "NOT_OPEN";
      const error = new SessionChannelError(code, `WebSocket error${detail}`, { cause: cause ?? event });
      this.report(error);
      // ws and browsers follow an error with a close, but ws may first wait for the peer's close frame.
      this.lost(error);
    } catch {
      // Reporting never throws; and nothing may escape a socket listener.
    }
  };

  private readonly ping = (): boolean => {
    const socket = this.channel as NodeSocket;
    if (socket.readyState !== OPEN) return false;
    try {
      socket.ping();
    } catch {
      // The socket is going away; its close event ends the heartbeat.
    }
    return true;
  };

  private readonly dead = (): void => {
    const { interval, timeout } = this.heartbeatSettings!;
    const error = new SessionChannelError(
      "HEARTBEAT_TIMEOUT",
      `heartbeat: no pong within ${timeout} ms of a ping (sent after ${interval} ms of silence): connection terminated`,
    );
    this.report(error);
    this.lost(error);
    (this.channel as NodeSocket).terminate();
  };

  private oversize(bytes: number): void {
    const error = new SessionChannelError(
      "FRAME_TOO_LARGE",
      `a ${bytes}-byte frame is over maxFrameBytes ${this.maxFrameBytes}: connection closed`,
    );
    this.report(error);
    this.lost(error);
    this.channel.close(1009, "message too big");
  }

  /** Something threw inside a socket listener: report it and close this connection only. */
  private crashed(error: unknown): void {
    try {
      const reason = error instanceof Error ? error.message : String(error);
      const failure = new SessionChannelError("CLOSED", `a socket listener failed (${reason}): connection closed`, {
        cause: error,
      });
      this.report(failure);
      this.lost(failure);
      if (this.node) (this.channel as NodeSocket).terminate();
      else this.channel.close(1011);
    } catch {
      // nothing may escape a socket listener
    }
  }

  /** The connection is gone: close listeners run (the core aborts or parks the port's sessions). */
  private lost(reason: Error): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.stopReading();
    this.inbox = undefined;
    this.uncorkAnswers();
    this.rejectQueue(reason);
    this.messageListeners = [];
    this.drainListeners = [];
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        this.report(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}

function closeError(code: number, reason: string): SessionChannelError {
  return new SessionChannelError("CLOSED", `WebSocket closed (code ${code}${reason ? `, "${reason}"` : ""})`);
}

function without<T>(list: T[], item: T): T[] {
  const i = list.indexOf(item);
  return i === -1 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}
