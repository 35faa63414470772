import type { Transport } from "./transport.js";
import type { Role } from "./types.js";

export interface MemoryTransport<M = unknown> extends Transport<M> {
  onClose(listener: (reason?: unknown) => void): () => void;
  /** Closes both ends: each end's onClose listeners run with `reason`. */
  close(reason?: unknown): void;
  readonly closed: boolean;
  /** The first end is "client", the second "server": two attached managers never share a sid space. */
  readonly role: Role;
  /** Messages sent by this end that the other end has not delivered yet (it may be paused). */
  readonly bufferedAmount: number;
  onDrain(listener: () => void): () => void;
  /** Stops delivering to this end's listeners (messages wait) until `resume()`. */
  pause(): void;
  resume(): void;
}

export interface MemoryPairOptions {
  /** Deliver a structuredClone of each message instead of the object itself. */
  clone?: boolean;
}

/**
 * Two connected in-memory transports: what one sends the other receives in a microtask, in order.
 * For tests, demos and benchmarks; one microtask drains everything queued, so bursts stay cheap.
 */
export function createMemoryTransportPair<M = unknown>(
  options: MemoryPairOptions = {},
): [MemoryTransport<M>, MemoryTransport<M>] {
  const a = new End<M>(options.clone === true, "client");
  const b = new End<M>(options.clone === true, "server");
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class End<M> implements MemoryTransport<M> {
  peer!: End<M>;
  closed = false;
  private readonly messageListeners: ((message: M) => void)[] = [];
  private readonly closeListeners: ((reason?: unknown) => void)[] = [];
  private readonly drainListeners: (() => void)[] = [];
  private inbox: M[] = [];
  private scheduled = false;
  private paused = false;

  constructor(
    private readonly clone: boolean,
    readonly role: Role,
  ) {}

  get channel(): object {
    return this;
  }

  get bufferedAmount(): number {
    return this.peer.inbox.length;
  }

  onDrain(listener: () => void): () => void {
    return subscribe(this.drainListeners, listener);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.inbox.length > 0 && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  send(message: M): void {
    if (this.closed) throw new Error("memory transport is closed");
    const peer = this.peer;
    peer.inbox.push(this.clone ? structuredClone(message) : message);
    if (!peer.scheduled && !peer.paused) {
      peer.scheduled = true;
      queueMicrotask(peer.flush);
    }
  }

  onMessage(listener: (message: M) => void): () => void {
    return subscribe(this.messageListeners, listener);
  }

  onClose(listener: (reason?: unknown) => void): () => void {
    return subscribe(this.closeListeners, listener);
  }

  close(reason?: unknown): void {
    for (const end of [this, this.peer]) {
      if (end.closed) continue;
      end.closed = true;
      end.inbox = [];
      for (const listener of [...end.closeListeners]) listener(reason);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.paused) return;
    const batch = this.inbox;
    this.inbox = [];
    const listeners = this.messageListeners;
    for (let i = 0; i < batch.length && !this.closed; i++) {
      if (this.paused) {
        // Paused by a listener mid-batch: the rest waits, in order, for resume().
        this.inbox = batch.slice(i).concat(this.inbox);
        return;
      }
      const message = batch[i]!;
      for (let j = 0; j < listeners.length; j++) listeners[j]!(message);
    }
    // The sender's queue toward us is empty again.
    const drained = this.peer.drainListeners;
    if (batch.length > 0 && drained.length > 0) for (const listener of [...drained]) listener();
  };
}

function subscribe<T>(list: T[], item: T): () => void {
  list.push(item);
  return () => {
    const i = list.indexOf(item);
    if (i >= 0) list.splice(i, 1);
  };
}
