/**
 * Turns a message into one frame and back; the `serializer` option of every adapter. Each adapter
 * keeps its own default (JSON text for ws and net).
 *
 * - `encode` returns a string (a text frame, written as UTF-8 on byte streams) or bytes (a binary
 *   frame). Whatever it throws fails that one send.
 * - `decode` gets text frames as a string and binary frames (and byte-stream payloads) as a
 *   `Uint8Array` (a `Buffer` in Node), valid only during the call: copy what you keep. Whatever it
 *   throws is reported on the manager's "error" event as a `SessionChannelError` with code
 *   `DECODE_FAILED`, and the frame is dropped.
 */
export interface Serializer {
  encode(message: unknown): string | Uint8Array;
  decode(data: string | Uint8Array): unknown;
}

/**
 * The largest frame every adapter accepts and sends unless told otherwise (`maxFrameBytes`): 1 MiB.
 * A bigger inbound frame closes its connection (`FRAME_TOO_LARGE`); a bigger outbound one fails
 * that send.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
