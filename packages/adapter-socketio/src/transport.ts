import { SessionChannelError, type Role, type Transport } from "psession";
import type { Codec } from "./codec.js";
import { WireMeter, type WireCounters } from "./wire.js";

type MessageListener = (message: unknown) => void;
type CloseListener = (reason?: unknown) => void;

interface Queued {
  frame: unknown;
  resolve(): void;
  reject(error: unknown): void;
}

export interface TransportSetup {
  role: Role;
  /** The wrapped socket (undefined for a relay, which wraps no socket of its own). */
  channel: object | undefined;
  duplicates: boolean;
  codec: Codec;
  /** Emits one encoded frame (or, batching, an array of them). May throw: that send fails. */
  out(frame: unknown): void;
  /** Throws when nothing can leave now (the socket is not connected): a batched send fails at once. */
  ready?(): void;
  /** `transport.close()`: ends the connection. */
  close?(): void;
  /** psession let go of this transport (its last message listener unsubscribed). */
  released?(): void;
  /** Node: finds the TCP socket under the connection, for `bytesSent` / `bytesReceived` (see wire.ts). */
  wire?(): WireCounters | undefined;
}

/**
 * A batch leaves once it holds this many bytes (a lower bound: see Codec.lastBytes), far below
 * Socket.IO's maxHttpBufferSize (1 MB by default); a frame of a quarter of it or more leaves alone.
 */
const BATCH_BYTES = 64 * 1024;

/**
 * Schedules a tick's flush. A resolved promise rather than `queueMicrotask`: in Node that wraps
 * every callback in an AsyncResource and a bound function (about 0.1 µs more per send).
 */
const RESOLVED: Promise<void> = Promise.resolve();

/** No frame waiting (a frame itself may be any value). */
const NONE: unique symbol = Symbol("none");

/** `bytesSent` / `bytesReceived`, put on the instance only where they can be counted (see the class). */
const WIRE_COUNTERS: PropertyDescriptorMap = {
  bytesSent: {
    get(this: SocketIoTransport): number | undefined {
      return this.wireBytes(true);
    },
  },
  bytesReceived: {
    get(this: SocketIoTransport): number | undefined {
      return this.wireBytes(false);
    },
  },
};

/**
 * One Socket.IO connection (or one relay toward a client on another node) as a psession
 * Transport. Frames are encoded here; the socket listener that owns the connection decodes them
 * and calls `deliver`. Sends wait (in order) while the transport is held: before the socket first
 * connects, and after a reconnect until the peer said whether it kept its sessions.
 */
export class SocketIoTransport implements Transport<unknown> {
  readonly role: Role;
  readonly duplicates: boolean;
  declare readonly channel?: object;
  /**
   * In Node, over engine.io's WebSocket transport: bytes the TCP connection under it wrote and
   * read (its `bytesWritten` / `bytesRead`) since this transport was made, or since the WebSocket
   * opened when that was later (an upgrade from long-polling). That is everything on the
   * connection: the application's own events and other namespaces too, engine.io pings, WebSocket
   * framing and the upgrade handshake. Undefined while the connection is long-polling or the socket
   * cannot be reached (another `wsEngine`, WebTransport). Kept once the connection is gone. Absent
   * in browsers and on relays between cluster nodes (which ride another port's connection).
   */
  declare readonly bytesSent?: number;
  declare readonly bytesReceived?: number;
  private readonly setup: TransportSetup;
  private readonly wire: WireMeter | undefined;
  private listeners: MessageListener[] = [];
  private closeListeners: CloseListener[] = [];
  private queue: Queued[] | undefined = undefined;
  private lostReason: Error | undefined = undefined;
  private muted = false;
  /**
   * The peer's hello said it reads batches: frames sent in one tick leave as one event at the end
   * of the tick. Socket.IO writes one WebSocket frame per event, and those writes are most of what
   * a request costs at 256 in flight (docs/benchmarks.md).
   */
  batching = false;
  /** The tick's only frame so far (NONE: none), then `batch` once a second one comes. */
  private first: unknown = NONE;
  private batch: unknown[] | undefined = undefined;
  private batchBytes = 0;

  constructor(setup: TransportSetup) {
    this.setup = setup;
    this.role = setup.role;
    this.duplicates = setup.duplicates;
    if (setup.channel !== undefined) (this as { channel?: object }).channel = setup.channel;
    this.wire = setup.wire === undefined ? undefined : new WireMeter(setup.wire);
    if (this.wire !== undefined) Object.defineProperties(this, WIRE_COUNTERS);
  }

  /** @internal The WebSocket may have opened (an upgrade from long-polling): find its TCP socket now. */
  probeWire(): void {
    this.wire?.probe();
  }

  /** @internal `bytesSent` (`written`) or `bytesReceived`. */
  wireBytes(written: boolean): number | undefined {
    const wire = this.wire;
    if (wire === undefined) return undefined;
    return written ? wire.sent : wire.received;
  }

  /** True once the connection is gone; sends throw from then on. */
  get closed(): boolean {
    return this.lostReason !== undefined;
  }

  send(message: unknown): void | Promise<void> {
    if (this.lostReason !== undefined)
      throw new SessionChannelError("CLOSED", `the Socket.IO connection is closed (${this.lostReason.message})`);
    const codec = this.setup.codec;
    const frame = codec.encode(message);
    if (this.muted) return;
    if (this.queue !== undefined) return this.later(frame);
    if (!this.batching) {
      this.setup.out(frame);
      return;
    }
    this.setup.ready?.();
    const bytes = codec.lastBytes;
    const alone = bytes >= BATCH_BYTES / 4;
    // What is batched already leaves first: order is kept.
    if ((this.first !== NONE || this.batch !== undefined) && (alone || this.batchBytes + bytes > BATCH_BYTES))
      this.flush();
    if (alone) {
      this.setup.out(frame);
      return;
    }
    this.batchBytes += bytes;
    if (this.batch !== undefined) {
      this.batch.push(frame);
      return;
    }
    if (this.first === NONE) {
      // The tick's first frame: an array only if a second one follows (sequential calls never do).
      this.first = frame;
      this.batchBytes = bytes;
      void RESOLVED.then(this.flush); // flush never throws: its send failures are caught inside
      return;
    }
    this.batch = [this.first, frame];
    this.first = NONE;
  }

  /** Sends what was batched: one frame alone, several as one array. */
  private readonly flush = (): void => {
    const first = this.first;
    const frames = this.batch;
    if (first === NONE && frames === undefined) return;
    this.first = NONE;
    this.batch = undefined;
    if (this.lostReason !== undefined || this.muted) return;
    try {
      this.setup.out(first !== NONE ? first : frames);
    } catch {
      // The socket went away within this tick: its "disconnect" fails the attempts (onClose).
    }
  };

  onMessage(listener: MessageListener): () => void {
    this.listeners = [...this.listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.listeners = this.listeners.filter((l) => l !== listener);
      if (this.listeners.length === 0) this.setup.released?.();
    };
  }

  onClose(listener: CloseListener): () => void {
    const reason = this.lostReason;
    if (reason !== undefined) {
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.closeListeners = [...this.closeListeners, listener];
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  close(): void {
    this.setup.close?.();
  }

  /** True while psession listens. */
  get listening(): boolean {
    return this.listeners.length > 0;
  }

  /** One inbound message, already decoded. */
  deliver(message: unknown): void {
    if (this.lostReason !== undefined) return;
    const listeners = this.listeners;
    if (listeners.length === 1) listeners[0]!(message);
    else for (let i = 0; i < listeners.length; i++) listeners[i]!(message);
  }

  /** Sends wait from now on, until `release()`. */
  hold(): void {
    this.flush();
    if (this.lostReason === undefined) this.queue ??= [];
  }

  /** Sends go out again; those that waited go first, in order. */
  release(): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue === undefined) return;
    for (const item of queue) {
      if (this.lostReason !== undefined) {
        item.reject(this.lostReason);
        continue;
      }
      try {
        this.setup.out(item.frame);
        item.resolve();
      } catch (error) {
        item.reject(error);
      }
    }
  }

  /** From now on sends succeed without leaving: for a port being reset, whose notices must not reach the peer. */
  mute(): void {
    this.muted = true;
    this.first = NONE;
    this.batch = undefined;
    this.rejectQueue(new SessionChannelError("CLOSED", "the peer did not keep its sessions: port reset"));
  }

  /** The connection is gone: waiting sends reject, close listeners run once. */
  lost(reason: Error): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.first = NONE;
    this.batch = undefined;
    this.rejectQueue(reason);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(reason);
  }

  private later(frame: unknown): Promise<void> {
    const queue = this.queue!;
    const promise = new Promise<void>((resolve, reject) => void queue.push({ frame, resolve, reject }));
    // Marked handled: a raw caller may ignore it; the close reaches psession through onClose anyway.
    promise.catch(() => {});
    return promise;
  }

  private rejectQueue(reason: Error): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue !== undefined) for (const item of queue) item.reject(reason);
  }
}
