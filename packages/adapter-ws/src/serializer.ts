import type { Serializer } from "psession";

/** The default codec: JSON in text frames. A binary frame is refused, not guessed at. */
export const jsonSerializer: Serializer = {
  encode(message) {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError(`cannot serialize ${typeof message} as JSON`);
    return text;
  },
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

/** Bytes of a binary or `ws` frame (Buffer, ArrayBuffer, typed array or fragments), without copying. */
export function sizeOf(data: unknown): number {
  if (Array.isArray(data)) {
    let n = 0;
    for (const part of data) n += sizeOf(part);
    return n;
  }
  const bytes = (data as { byteLength?: unknown }).byteLength;
  return typeof bytes === "number" ? bytes : 0;
}

/** UTF-8 length of a string (Buffer.byteLength where there is one). */
export function utf8Length(text: string): number {
  if (hasBuffer) return Buffer.byteLength(text);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
