import { SessionError } from "psession";

/** What went wrong on a connection, in `NetChannelError.code`. */
export type NetErrorCode =
  /** A frame (length header or NDJSON line) is larger than `maxFrameBytes`: the connection is destroyed. */
  | "FRAME_TOO_LARGE"
  /** A frame could not be decoded by the serializer (not JSON, …): the frame is dropped, the connection stays. */
  | "DECODE_FAILED"
  /** Nothing came from the peer for `heartbeat.timeout` ms: the connection is destroyed. */
  | "HEARTBEAT_TIMEOUT";

/** A framing, decoding or liveness failure on a socket; reported on the manager's `error` event. */
export class NetChannelError extends SessionError {
  override name = "NetChannelError";
  readonly code: NetErrorCode;
  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
