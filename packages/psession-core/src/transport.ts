import type { Role, TransferExtras } from "./types.js";

/**
 * The whole contract between psession and a channel. Everything below `close` is optional: a
 * transport that has it gets more from the core. The rules every transport follows (explained,
 * with the package skeleton, in docs/adapters.md):
 *
 * 1. Wiring only: a transport moves messages between one channel and the core. Routing, sids,
 *    timeouts, retries and the back-pressure policy are the core's. Adapters import only the
 *    public `psession` API.
 * 2. `send` sends one whole message or fails that attempt by throwing (or rejecting). A closing or
 *    closed channel fails at once with `SessionChannelError` `NOT_OPEN` / `CLOSED`; what the
 *    serializer cannot encode, or a message over `maxFrameBytes`, throws its reason.
 * 3. While the channel is still connecting, `send` returns a promise that resolves once the
 *    channel opened and the message was written, and rejects with `SessionChannelError` `CLOSED`
 *    if it closes first. The core's per-send timeout bounds the wait.
 * 4. `onMessage` delivers decoded application messages, in order, to any number of listeners;
 *    each unsubscribe removes only its own listener and may be called twice.
 * 5. An inbound frame that cannot be decoded is dropped and reported on the manager's "error"
 *    event as `SessionChannelError` `DECODE_FAILED` (`manager.report(error, port)`); the channel
 *    stays up. Nothing is ever thrown to the channel's event emitter.
 * 6. Control frames (heartbeats, pings, acknowledgements) never reach `onMessage`.
 * 7. `onClose` listeners run once when the channel closes, with the reason (a
 *    `SessionChannelError` when the transport closed it: `HEARTBEAT_TIMEOUT`, `FRAME_TOO_LARGE`,
 *    …). A channel that is already closed is reported too, in a microtask. Any number of
 *    listeners. A channel without a close signal leaves `onClose` out.
 * 8. An exception inside a listener the transport put on its channel is caught, reported, and
 *    closes that connection only. The transport keeps an error listener on the channel until the
 *    channel has closed, even after psession let go of it, then removes all its listeners.
 * 9. Frames are bounded: `maxFrameBytes`, default `DEFAULT_MAX_FRAME_BYTES` (1 MiB). A bigger
 *    inbound frame is refused (before it is buffered, where the channel allows), reported as
 *    `FRAME_TOO_LARGE`, and its connection closed; a bigger outbound message fails that send.
 * 10. `heartbeat: { interval, timeout }` means the same everywhere (`heartbeatSettings()`).
 * 11. `role` and `channel` are set (see below); a server's connections go through
 *     `attachConnections()`, which never attaches one connection twice.
 * 12. `bufferedAmount`, `onDrain`, `pause` and `resume` are accurate primitives where the channel
 *     has them; the core decides when to use them.
 * 13. The shared conformance suite runs on the adapter, with the capability flags that say what
 *     its channel can do.
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
  /**
   * True: each attempt of a `send()` passes its timeout to `send(message, { timeout })`, so the
   * channel can let a stale message expire (MQTT 5 `messageExpiryInterval`). Answers and other
   * messages that wait for nothing pass none.
   */
  readonly timeouts?: boolean;
  /** Bytes (or messages) queued toward the peer and not yet written: ws `bufferedAmount`, net `writableLength`. */
  readonly bufferedAmount?: number;
  /** Calls `listener` when the queue toward the peer has drained (after `bufferedAmount` was high). */
  onDrain?(listener: () => void): () => void;
  /** Stops delivering inbound messages (stop reading from the peer) until `resume()`. For back-pressure. */
  pause?(): void;
  resume?(): void;
  /**
   * Bytes this transport has written toward the peer and read from it (frames as encoded), for
   * `port.stats()`. Plain counters the adapter adds to where it already writes and reads; psession
   * reads them only when statistics are asked for. Leave them out when the channel cannot tell.
   */
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
  /**
   * When the peer last showed life (ms since the epoch): any frame or heartbeat answer, control
   * frames included, which never reach `onMessage`. Adapters with a heartbeat set it from their
   * heartbeat tick (no clock read per frame); `port.lastSeen` is the later of this and its own.
   */
  readonly lastSeen?: number;
}
