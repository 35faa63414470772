import type { Serializer } from "psession";

/** The default: `JSON.stringify` / `JSON.parse` (the transports take a no-copy path for it). */
export const jsonSerializer: Serializer = {
  encode: (message) => {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError(`cannot serialize ${typeof message} as JSON`);
    return text;
  },
  decode: (payload) => JSON.parse(typeof payload === "string" ? payload : textOf(payload)),
};

/** UTF-8 bytes as text, without a copy for a Buffer. */
function textOf(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes)
    ? bytes.toString("utf8")
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
