import type { Port } from "./port.js";
import type { Session } from "./session.js";
import type { PortState } from "./stats.js";

/** Any message object. psession only reads and writes its sid field. */
// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
export type Message = Record<string, any>;

/** Sends one message to the remote. A thrown error or rejected promise fails that send attempt. */
export type Sender = (message: Message, extras?: TransferExtras) => void | Promise<void>;

/** What a send may hand to the transport besides the message (workers: transferables). */
export interface TransferExtras {
  /** Objects to transfer, not copy (ArrayBuffers, MessagePorts): `postMessage(message, transfer)`. */
  transfer?: readonly unknown[];
  /** This attempt's timeout in ms, for transports that ask for it (`Transport.timeouts`): MQTT 5 message expiry. */
  timeout?: number;
}

/**
 * Which half of the sid space this side allocates from when both peers initiate sessions
 * on one channel: "client" takes odd ids, "server" even ids (HTTP/2 style). Without a role,
 * ids run 1..maxSessionCount and any sid that is not a live local session opens a responder session.
 */
export type Role = "client" | "server";

export interface SendOptions {
  /** Milliseconds to wait for the reply to each attempt. 0 or Infinity: wait forever. */
  timeout?: number;
  /** Extra attempts after a timeout or a failed send: 3 means 4 sends in all. */
  retryCount?: number;
  /** Milliseconds between a failed attempt and the next one. */
  retryInterval?: number;
  /** Aborts this send with a SessionAbortError (and tells the remote to stop). */
  signal?: AbortSignal;
  /**
   * Transferred to the remote instead of copied, where the channel can (workers). A transferred
   * send is never retried automatically: its buffers are detached after the first attempt.
   */
  transfer?: readonly unknown[];
  /** Interim messages the remote sends with `session.progress()` before its answer; each restarts the timeout. */
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  onProgress?: (message: any) => unknown;
}

export interface SessionOptions {
  timeout?: number;
  retryCount?: number;
  retryInterval?: number;
  /** The session ends by itself after its first reply, timeout, cancel or abort. */
  once?: boolean;
}

/** Per-port settings; each falls back to the manager's. */
export interface PortOptions {
  sender?: Sender;
  role?: Role;
  sessionTimeout?: number;
  sessionMaxLife?: number;
  /** At most the manager's maxSessionCount. */
  maxSessionCount?: number;
  retryCount?: number;
  retryInterval?: number;
  onSessionOverflow?: (port: Port) => number | undefined;
  /**
   * Back-pressure (transports that report `bufferedAmount`): past this many bytes queued toward
   * the peer, this side stops reading from it and local sends fail at once with
   * SessionChannelError "BACKPRESSURE" until the queue drains (default 1 MiB).
   */
  highWaterMark?: number;
  /**
   * Most sessions the remote may have open on this port at once (default 1024). Openings past it
   * are answered at once with a `SessionOverloadError` remote error and never reach the handler.
   */
  maxResponders?: number;
  /** A peer that stays over the high-water mark this long (ms) is disconnected (default 30000). */
  backpressureTimeout?: number;
}

export interface SessionManagerOptions {
  /** Sender of the "default" port. */
  sender?: Sender;
  /** Per-send reply timeout in ms (default 60000). */
  sessionTimeout?: number;
  /** An idle session older than this (ms since its last activity) ends by itself (default 600000). */
  sessionMaxLife?: number;
  /** Name of the session id field (default "sid"). */
  sessionIdName?: string;
  /** Highest session id, and so the most live sessions of one port (default 65535). */
  maxSessionCount?: number;
  /** Picks the sid to recycle when a port has no free id (default: its oldest local session). */
  onSessionOverflow?: (port: Port) => number | undefined;
  /** Default retries of every send (default 0). */
  retryCount?: number;
  /** Default pause between attempts in ms (default 0). */
  retryInterval?: number;
  /**
   * `false`: put only the sid (and the error field) on the wire, for peers that reject unknown
   * fields. Turn matching, de-duplication of retries, cancel notices and progress need the
   * protocol fields (`$turn`, `$re`, `$try`, `$cancel`, `$progress`; docs/protocol.md). Default true.
   */
  protocolFields?: boolean;
  /** Ended responder sessions remembered to recognise repeated turns, over all ports (default 4096). */
  replayCacheSize?: number;
  /** Bytes (JSON length) of answers kept to replay retried turns, over all ports (default 4 MiB). */
  replayCacheBytes?: number;
  /** Field that carries a remote handler's failure (default "$error"). */
  errorKey?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
export type Handler = (message: any, session: Session) => unknown;

export interface ManagerEvents {
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  [event: string]: (...args: any[]) => unknown;
  "session:create": (session: Session) => unknown;
  "session:end": (session: Session, reason: unknown) => unknown;
  /** A message without a session id, from `receive()` / `attach()`. */
  message: (message: unknown, port: Port) => unknown;
  /** Bad input, a late reply, a failed listener: never thrown, always reported here. */
  error: (error: Error, port: Port | undefined) => unknown;
  /**
   * A port was made (`previous` undefined) or changed state: attached, detached (its transport
   * closed with `reconnect`, kept for the next one) or destroyed.
   */
  "port:state": (port: Port, state: PortState, previous: PortState | undefined) => unknown;
}

export interface SessionEvents {
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  [event: string]: (...args: any[]) => unknown;
  /** A message from the remote that no pending send was waiting for (a new turn). */
  // biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
  next: (message: any, session: Session) => unknown;
  end: (reason: unknown, session: Session) => unknown;
}
