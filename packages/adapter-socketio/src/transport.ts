import { SessionChannelError, type Role, type Transport } from "psession";
import type { Codec } from "./codec.js";

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
  /** Emits one encoded frame. May throw: that send fails. */
  out(frame: unknown): void;
  /** `transport.close()`: ends the connection. */
  close?(): void;
  /** psession let go of this transport (its last message listener unsubscribed). */
  released?(): void;
}

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
  private readonly setup: TransportSetup;
  private listeners: MessageListener[] = [];
  private closeListeners: CloseListener[] = [];
  private queue: Queued[] | undefined = undefined;
  private lostReason: Error | undefined = undefined;
  private muted = false;

  constructor(setup: TransportSetup) {
    this.setup = setup;
    this.role = setup.role;
    this.duplicates = setup.duplicates;
    if (setup.channel !== undefined) (this as { channel?: object }).channel = setup.channel;
  }

  /** True once the connection is gone; sends throw from then on. */
  get closed(): boolean {
    return this.lostReason !== undefined;
  }

  send(message: unknown): void | Promise<void> {
    if (this.lostReason !== undefined)
      throw new SessionChannelError("CLOSED", `the Socket.IO connection is closed (${this.lostReason.message})`);
    const frame = this.setup.codec.encode(message);
    if (this.muted) return;
    if (this.queue !== undefined) return this.later(frame);
    this.setup.out(frame);
  }

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
    this.rejectQueue(new SessionChannelError("CLOSED", "the peer did not keep its sessions: port reset"));
  }

  /** The connection is gone: waiting sends reject, close listeners run once. */
  lost(reason: Error): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
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
