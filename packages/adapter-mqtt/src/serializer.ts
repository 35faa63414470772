import type { Serializer } from "psession";

const decoder = new TextDecoder();
// Node's Buffer#toString is the fastest UTF-8 decode for small payloads; browsers have no Buffer.
const NodeBuffer = (globalThis as { Buffer?: { isBuffer(value: unknown): boolean } }).Buffer;
const isBuffer = (data: Uint8Array): boolean => NodeBuffer?.isBuffer(data) === true;

/**
 * The default codec: JSON text payloads (UTF-8). MQTT payloads are bytes, so `decode` gets a
 * `Buffer` in Node (a `Uint8Array` elsewhere); a custom `serializer` (MessagePack, CBOR) gets the same.
 */
export const jsonSerializer: Serializer = {
  encode: (message) => JSON.stringify(message),
  decode: (data) =>
    JSON.parse(typeof data === "string" ? data : isBuffer(data) ? data.toString() : decoder.decode(data)),
};
