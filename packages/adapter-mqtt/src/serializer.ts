/**
 * Turns messages into MQTT payloads and back. `decode` gets the raw payload; whatever it throws is
 * reported on the manager's "error" event (`SessionChannelError` code "DECODE_FAILED") and the
 * publish is dropped. Default: JSON text.
 */
export interface Serializer {
  encode(message: unknown): string | Uint8Array;
  decode(payload: Uint8Array): unknown;
}

/** JSON text payloads (UTF-8). */
export const jsonSerializer: Serializer = {
  encode: (message) => JSON.stringify(message),
  decode: (payload) => JSON.parse(Buffer.isBuffer(payload) ? payload.toString() : Buffer.from(payload).toString()),
};
