/**
 * Turns a message into one frame's payload and back. A string is written as UTF-8. With NDJSON
 * framing the payload must not contain a newline byte (JSON never does); binary serializers such
 * as msgpack belong with length-prefix framing.
 */
export interface Serializer {
  encode(message: unknown): string | Uint8Array;
  /** `payload` is only valid during the call unless the serializer copies what it keeps. */
  decode(payload: Buffer): unknown;
}

/** The default: `JSON.stringify` / `JSON.parse` (the transports take a no-copy path for it). */
export const jsonSerializer: Serializer = {
  encode: (message) => {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError(`cannot serialize ${typeof message} as JSON`);
    return text;
  },
  decode: (payload) => JSON.parse(payload.toString("utf8")),
};
