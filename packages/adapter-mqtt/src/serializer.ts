import type { Serializer } from "psession";

const decoder = new TextDecoder();

/**
 * The default codec: JSON text payloads (UTF-8). MQTT payloads are bytes, so `decode` gets a
 * `Buffer`; a custom `serializer` (MessagePack, CBOR) gets the same.
 */
export const jsonSerializer: Serializer = {
  encode: (message) => JSON.stringify(message),
  decode: (data) =>
    JSON.parse(typeof data === "string" ? data : Buffer.isBuffer(data) ? data.toString() : decoder.decode(data)),
};
