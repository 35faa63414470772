/** Base class of every error psession produces. */
export class SessionError extends Error {
  override name = "SessionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A send got no reply in time (after all retries). */
export class SessionTimeoutError extends SessionError {
  override name = "SessionTimeoutError";
}

/** A pending send was cancelled locally (`cancel()`, `end()`, sid recycled). */
export class SessionCancelError extends SessionError {
  override name = "SessionCancelError";
}

/** The session cannot be used: it has ended, is busy, or a message is not valid for it. */
export class SessionInvalidError extends SessionError {
  override name = "SessionInvalidError";
}

/** The session was aborted: `abort()`, an `AbortSignal`, its port destroyed or its transport closed. */
export class SessionAbortError extends SessionError {
  override name = "SessionAbortError";
}

/** The transport refused or failed to send the message (socket not open, serializer failed, …). */
export class SessionSendError extends SessionError {
  override name = "SessionSendError";
}

/** Wraps what a sender threw (or rejected with) on port `portName`; SessionErrors pass through. */
export function toSendError(error: unknown, portName: string): SessionError {
  if (error instanceof SessionError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SessionSendError(`port "${portName}" could not send: ${reason}`, { cause: error });
}

/** What a remote handler reported when it failed. */
export interface RemoteErrorInfo {
  name?: string;
  message: string;
  code?: string | number;
  data?: unknown;
  /** The error's `cause`, when it had one (an Error or a message), a few levels deep. */
  cause?: RemoteErrorInfo;
}

/** Causes carried across, at most: enough for "failed because … because …", never a cycle. */
const CAUSE_DEPTH = 4;

/**
 * The remote handler threw: `message`, `remote.name`, `remote.code` and `remote.data` are the
 * remote's; `cause` is the remote error's cause, as a SessionRemoteError of its own.
 */
export class SessionRemoteError extends SessionError {
  override name = "SessionRemoteError";
  readonly remote: RemoteErrorInfo;
  readonly code: string | number | undefined;
  constructor(remote: RemoteErrorInfo) {
    super(remote.message, remote.cause === undefined ? undefined : { cause: new SessionRemoteError(remote.cause) });
    this.remote = remote;
    this.code = remote.code;
  }
}

/**
 * Turns whatever a handler threw into the plain object that travels back to the initiator. Never
 * throws, whatever the value (a null-prototype object, throwing getters, a revoked proxy).
 */
export function toRemoteErrorInfo(error: unknown, depth = 0): RemoteErrorInfo {
  try {
    if (error instanceof Error) {
      const info: RemoteErrorInfo = { name: String(error.name), message: String(error.message) };
      const extra = error as { code?: unknown; data?: unknown };
      if (typeof extra.code === "string" || typeof extra.code === "number") info.code = extra.code;
      if (extra.data !== undefined) info.data = extra.data;
      const cause = error.cause;
      if (cause !== undefined && depth < CAUSE_DEPTH) info.cause = toRemoteErrorInfo(cause, depth + 1);
      return info;
    }
    if (typeof error === "string") return { message: error };
    if (typeof error === "object" && error !== null) {
      const v = error as Record<string, unknown>;
      if (typeof v.message === "string") {
        const info: RemoteErrorInfo = { message: v.message };
        if (typeof v.name === "string") info.name = v.name;
        if (typeof v.code === "string" || typeof v.code === "number") info.code = v.code;
        return info;
      }
    }
    return { message: String(error) };
  } catch {
    return { message: Object.prototype.toString.call(error) };
  }
}

/** Reads a `$error` payload from an inbound reply, tolerating anything a peer may put there. */
export function fromRemoteErrorInfo(value: unknown): SessionRemoteError {
  return new SessionRemoteError(readRemoteErrorInfo(value, 0));
}

function readRemoteErrorInfo(value: unknown, depth: number): RemoteErrorInfo {
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    const info: RemoteErrorInfo = {
      message: typeof v.message === "string" ? v.message : "remote handler failed",
    };
    if (typeof v.name === "string") info.name = v.name;
    if (typeof v.code === "string" || typeof v.code === "number") info.code = v.code;
    if (v.data !== undefined) info.data = v.data;
    if (v.cause !== undefined && v.cause !== null && depth < CAUSE_DEPTH)
      info.cause = readRemoteErrorInfo(v.cause, depth + 1);
    return info;
  }
  return { message: typeof value === "string" ? value : "remote handler failed" };
}

/** What went wrong with the channel itself, in `SessionChannelError.code`. */
export type SessionChannelErrorCode =
  /** An inbound frame could not be decoded (not JSON, …): the frame is dropped, the channel stays. */
  | "DECODE_FAILED"
  /** A frame is larger than the channel's limit: the connection is closed. */
  | "FRAME_TOO_LARGE"
  /** The peer stopped answering heartbeats: the connection is closed. */
  | "HEARTBEAT_TIMEOUT"
  /** The channel has closed. */
  | "CLOSED"
  /** The channel is not open (closing, or never opened) so nothing can be sent. */
  | "NOT_OPEN"
  /** The peer does not read what is sent to it: the queue toward it is over its high-water mark. */
  | "BACKPRESSURE"
  /** The device behind this port is known to be offline (MQTT Last Will, …). */
  | "OFFLINE"
  /** The connection was superseded by a newer one under the same port name. */
  | "SUPERSEDED"
  /**
   * This side refused a peer: a connection whose port name is taken by a port the server did not
   * make (or invalid), or a message from an origin that is not allowed (windows, iframes).
   */
  | "REFUSED";

/** A failure of the channel itself (decode, framing, liveness, closed, back-pressure), with a `code`. */
export class SessionChannelError extends SessionError {
  override name = "SessionChannelError";
  readonly code: SessionChannelErrorCode;
  constructor(code: SessionChannelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
