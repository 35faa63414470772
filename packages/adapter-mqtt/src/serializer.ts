import type { Serializer } from "psession";

/**
 * The default codec: JSON text payloads (UTF-8). MQTT payloads are bytes, so `decode` gets a
 * `Buffer`; a custom `serializer` (MessagePack, CBOR) gets the same.
 */
export const jsonSerializer: Serializer = {
  encode: (message) => JSON.stringify(message),
  decode: (data) =>
    JSON.parse(typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString()),
};
