// The psession Transport over one wire: control frames (heartbeat, close notice), transfer lists,
// and the rule for what reaches psession: messages that carry the sid field always, other messages
// only when the manager listens for them (the endpoint's own listeners get them either way).
import {
  heartbeatSettings,
  SessionChannelError,
  type HeartbeatOptions,
  type Role,
  type TransferExtras,
  type Transport,
} from "psession";
import { Heartbeat } from "./heartbeat.js";
import { transferList } from "./transfer.js";
import { LABEL, type Wire, type WireSink } from "./wire.js";

/** Field of this package's control frames: `{ $hb: "ping" | "pong" | "close" }`; they never reach psession. */
export const CONTROL_KEY = "$hb";
const PING = { [CONTROL_KEY]: "ping" };
const PONG = { [CONTROL_KEY]: "pong" };
const CLOSE = { [CONTROL_KEY]: "close" };

const hasOwn = Object.prototype.hasOwnProperty;

export interface WireTransportOptions {
  /** The manager's sid field (default "sid"). */
  sessionIdName?: string;
  /** Ping a silent peer and close the channel when it stays silent. Off by default. */
  heartbeat?: HeartbeatOptions;
  /** Whether a message without the sid field goes to the listeners now (default: always). */
  plain?: () => boolean;
  /** Where messageerror, refused origins and listener failures go (default console.warn). */
  report?: (error: Error) => void;
}

/** A Transport over one endpoint. It listens while anyone subscribes; `close()` tells the peer. */
export interface EndpointTransport extends Transport<unknown> {
  readonly channel: object;
  readonly role: Role | undefined;
  /** True once the channel is gone or closed; sends throw from then on. */
  readonly closed: boolean;
  onClose(listener: (reason?: unknown) => void): () => void;
  /** Tells the peer psession is leaving (its pending sessions end at once), stops listening; close listeners run. */
  close(): void;
}

/** Also ends the transport without a word to the peer (the worker is being terminated). */
export interface WireTransport extends EndpointTransport {
  shutdown(reason: Error): void;
}

type Listener = (message: unknown) => void;

export function createWireTransport(wire: Wire, options: WireTransportOptions = {}): WireTransport {
  const sid = options.sessionIdName ?? "sid";
  const beatSettings = heartbeatSettings(options.heartbeat, LABEL);
  const plain = options.plain;
  const report =
    options.report ??
    ((error: Error) => {
      console.warn(`[${LABEL}] ${error.message}`);
    });
  let messageListeners: Listener[] = [];
  let closeListeners: ((reason?: unknown) => void)[] = [];
  let closed = false;
  let closeReason: Error | undefined;
  let stop: (() => void) | undefined;
  let beat: Heartbeat | undefined;
  let transferred: WeakSet<object> | undefined;

  const dispatch = (message: unknown): void => {
    const listeners = messageListeners;
    if (listeners.length === 1) listeners[0]!(message);
    else for (let i = 0; i < listeners.length; i++) listeners[i]!(message);
  };

  /** A control frame: handled here. False for anything else. */
  const control = (kind: unknown): boolean => {
    if (kind === "ping") {
      if (!closed) quietPost(PONG);
      return true;
    }
    if (kind === "pong") return true;
    if (kind === "close") {
      shutdown(new SessionChannelError("CLOSED", `the peer closed psession on this ${wire.kind}`));
      return true;
    }
    return false;
  };

  const sink: WireSink = {
    data(data) {
      if (closed) return;
      try {
        if (beat !== undefined) beat.alive = true;
        if (typeof data === "object" && data !== null) {
          const record = data as Record<string, unknown>;
          if (record[sid] !== undefined) {
            dispatch(data);
            return;
          }
          const kind = record[CONTROL_KEY];
          if (kind !== undefined && control(kind)) return;
          // An own sid field that is undefined: invalid, and psession reports it.
          if (hasOwn.call(data, sid)) {
            dispatch(data);
            return;
          }
        }
        if (plain === undefined || plain()) dispatch(data);
      } catch (error) {
        // Nothing escapes into the endpoint's event dispatch.
        report(asError(error));
      }
    },
    fault(error) {
      report(error);
    },
    closed(reason) {
      shutdown(reason);
    },
  };

  const start = (): void => {
    if (stop !== undefined || closed) return;
    stop = wire.open(sink);
    if (beatSettings !== undefined) {
      beat = new Heartbeat(
        beatSettings,
        () => quietPost(PING),
        () => {
          const error = new SessionChannelError(
            "HEARTBEAT_TIMEOUT",
            `heartbeat: the peer answered nothing within ${beatSettings.timeout} ms of a ping: the ${wire.kind} is taken as gone`,
          );
          report(error);
          shutdown(error);
        },
      );
    }
  };

  /** Nobody listens any more: let go of the endpoint (a Node MessagePort with a listener keeps the process alive). */
  const idle = (): void => {
    if (messageListeners.length > 0 || closeListeners.length > 0) return;
    unlisten();
  };

  const unlisten = (): void => {
    beat?.stop();
    beat = undefined;
    const off = stop;
    stop = undefined;
    off?.();
  };

  function quietPost(frame: object): void {
    try {
      wire.post(frame, undefined);
    } catch {
      // a control frame on a channel that is going away: nothing to do
    }
  }

  function shutdown(reason: Error): void {
    if (closed) return;
    closed = true;
    closeReason = reason;
    unlisten();
    messageListeners = [];
    const listeners = closeListeners;
    closeListeners = [];
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        report(asError(error));
      }
    }
  }

  return {
    channel: wire.channel,
    role: wire.role,
    get closed() {
      return closed;
    },
    send(message, extras?: TransferExtras) {
      if (closed) {
        throw new SessionChannelError("CLOSED", `the ${wire.kind} is closed (${closeReason?.message ?? "closed"})`);
      }
      // `send(message, { transfer })` from the core, or a message marked with transfer().
      const list = extras?.transfer ?? transferList(message);
      if (list === undefined) {
        wire.post(message, undefined);
        return;
      }
      // Its buffers are detached after the first post: a retry or replay must not post them again.
      transferred ??= new WeakSet();
      if (transferred.has(message as object)) {
        throw new Error("this message transferred its buffers when it was first sent; it cannot be sent again");
      }
      wire.post(message, list);
      transferred.add(message as object);
    },
    onMessage(listener) {
      if (closed) return () => {};
      messageListeners = [...messageListeners, listener];
      start();
      return () => {
        messageListeners = messageListeners.filter((l) => l !== listener);
        idle();
      };
    },
    onClose(listener) {
      if (closed) {
        const reason = closeReason;
        queueMicrotask(() => listener(reason));
        return () => {};
      }
      closeListeners = [...closeListeners, listener];
      start();
      return () => {
        closeListeners = closeListeners.filter((l) => l !== listener);
        idle();
      };
    },
    close() {
      if (closed) return;
      quietPost(CLOSE);
      shutdown(new SessionChannelError("CLOSED", `psession closed this ${wire.kind} locally`));
    },
    shutdown,
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
