import { maxFrameBytesSetting, SessionChannelError, type Serializer } from "psession";
import { jsonSize } from "./measure.js";

export const LABEL = "@psession/socketio";

/**
 * How messages become the one argument of the psession event and back.
 * - No serializer (the default): the message object itself; Socket.IO encodes it (JSON, with
 *   `Buffer`/`ArrayBuffer` members as binary attachments). Frames must be plain objects.
 * - A serializer: its string or bytes (bytes travel as one binary attachment).
 */
export interface Codec {
  readonly max: number;
  /** What to emit for `message`. Throws what the serializer throws, or a RangeError over `maxFrameBytes`. */
  encode(message: unknown): unknown;
  /** A lower bound of the bytes of the frame `encode` returned last (to bound a batch). */
  lastBytes: number;
  /** The message a frame holds. Throws a SessionChannelError: `DECODE_FAILED`, or `FRAME_TOO_LARGE`. */
  decode(frame: unknown): unknown;
}

export function createCodec(serializer: Serializer | undefined, maxFrameBytes: number | undefined): Codec {
  const max = maxFrameBytesSetting(maxFrameBytes, LABEL);
  return serializer === undefined ? objectCodec(max) : serializerCodec(serializer, max);
}

function objectCodec(max: number): Codec {
  return {
    max,
    lastBytes: 0,
    encode(message) {
      const size = jsonSize(message, max);
      if (size > max)
        throw new RangeError(`message of at least ${size} bytes is over maxFrameBytes ${max} (or circular): not sent`);
      this.lastBytes = size;
      return message;
    },
    decode(frame) {
      if (typeof frame !== "object" || frame === null || Array.isArray(frame) || isBinary(frame)) {
        throw new SessionChannelError(
          "DECODE_FAILED",
          `frame dropped: a psession frame is an object, not ${describe(frame)}`,
        );
      }
      const size = jsonSize(frame, max);
      if (size > max) throw tooLarge(size, max, "at least ");
      return frame;
    },
  };
}

function serializerCodec(serializer: Serializer, max: number): Codec {
  return {
    max,
    lastBytes: 0,
    encode(message) {
      const data = serializer.encode(message);
      if (typeof data === "string") {
        const bytes = data.length * 3 <= max ? 0 : utf8Length(data);
        if (bytes > max) throw new RangeError(`message of ${bytes} bytes is over maxFrameBytes ${max}: not sent`);
        this.lastBytes = data.length;
        return data;
      }
      if (!(data instanceof Uint8Array)) {
        throw new TypeError(`the serializer returned ${data === null ? "null" : typeof data}, not a string or bytes`);
      }
      if (data.byteLength > max)
        throw new RangeError(`message of ${data.byteLength} bytes is over maxFrameBytes ${max}: not sent`);
      this.lastBytes = data.byteLength;
      return data;
    },
    decode(frame) {
      let data: string | Uint8Array;
      if (typeof frame === "string") {
        const bytes = frame.length * 3 <= max ? 0 : utf8Length(frame);
        if (bytes > max) throw tooLarge(bytes, max, "");
        data = frame;
      } else if (isBinary(frame)) {
        data =
          frame instanceof Uint8Array
            ? frame
            : ArrayBuffer.isView(frame)
              ? new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
              : new Uint8Array(frame);
        if (data.byteLength > max) throw tooLarge(data.byteLength, max, "");
      } else {
        throw new SessionChannelError(
          "DECODE_FAILED",
          `frame dropped: the serializer takes text or bytes, not ${describe(frame)}`,
        );
      }
      try {
        return serializer.decode(data);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SessionChannelError(
          "DECODE_FAILED",
          `${typeof data === "string" ? "text" : "binary"} frame dropped: the serializer could not decode it (${reason})`,
          { cause: error },
        );
      }
    },
  };
}

function tooLarge(bytes: number, max: number, bound: string): SessionChannelError {
  return new SessionChannelError(
    "FRAME_TOO_LARGE",
    `a frame of ${bound}${bytes} bytes is over maxFrameBytes ${max}: connection closed`,
  );
}

export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** A short description of a value for error messages (never its content). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (isBinary(value)) return `${value.byteLength} bytes of binary`;
  if (typeof value === "string") return `a ${value.length}-character string`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** UTF-8 length without Buffer (the client side runs in browsers too). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
