import type { Role, TransferExtras } from "./types.js";

/**
 * The whole contract between psession and a channel. `send` may throw or reject to fail one
 * attempt; `onMessage` and `onClose` return an unsubscribe function.
 *
 * The numbered rules every adapter follows are written out in docs/adapters.md.
 * Everything below `close` is optional: a transport that has it gets more from the core.
 */
export interface Transport<M = unknown> {
  /** `extras.transfer`: objects to transfer rather than copy, for channels that can (workers); others ignore it. */
  send(message: M, extras?: TransferExtras): void | Promise<void>;
  onMessage(listener: (message: M) => void): () => void;
  onClose?(listener: (reason?: unknown) => void): () => void;
  close?(): void;
  /**
   * The role this end takes when `attach()` is given no `role` option: the end that opened the
   * channel (a client socket, the creator of a worker) is "client", the accepting end "server".
   * psession-to-psession pairings then never share a sid space, without the user naming roles.
   */
  readonly role?: Role | undefined;
  /**
   * The object this transport wraps (a socket, an MQTT client plus topic, a worker). `attach()`
   * refuses a channel that is already attached, to this or another manager, naming where.
   */
  readonly channel?: object;
  /**
   * True when the channel itself may deliver one message twice (MQTT QoS 1, at-least-once
   * queues): the core then remembers the last turn of every ended responder session, so a
   * duplicated request never runs its handler twice. Reliable streams (TCP, WebSocket) leave it out.
   */
  readonly duplicates?: boolean;
  /** Bytes (or messages) queued toward the peer and not yet written: ws `bufferedAmount`, net `writableLength`. */
  readonly bufferedAmount?: number;
  /** Calls `listener` when the queue toward the peer has drained (after `bufferedAmount` was high). */
  onDrain?(listener: () => void): () => void;
  /** Stops delivering inbound messages (stop reading from the peer) until `resume()`. For back-pressure. */
  pause?(): void;
  resume?(): void;
}
