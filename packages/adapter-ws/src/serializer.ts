import type { Serializer } from "./types.js";

/** The default codec: JSON in text frames. A binary frame is refused, not guessed at. */
export const jsonSerializer: Serializer = {
  encode: (message) => JSON.stringify(message),
  decode(data) {
    if (typeof data !== "string") throw new TypeError("binary frame, but the JSON serializer expects text frames");
    return JSON.parse(data);
  },
};

let utf8: TextDecoder | undefined;
const hasBuffer = typeof Buffer === "function";

/** A `ws` text frame (Buffer, ArrayBuffer or Buffer[] depending on `binaryType`) as a string. */
export function textOf(data: unknown): string {
  if (typeof data === "string") return data;
  if (hasBuffer && Buffer.isBuffer(data)) return data.toString();
  return (utf8 ??= new TextDecoder()).decode(bytesOf(data));
}

/** A binary frame (Buffer, ArrayBuffer, typed array or `ws` fragments) as a Uint8Array. */
export function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) {
    const parts = data.map(bytesOf);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
  throw new TypeError(`unsupported frame data (${Object.prototype.toString.call(data)})`);
}
