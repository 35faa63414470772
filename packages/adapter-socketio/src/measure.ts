/**
 * A lower bound of the JSON size in bytes of a decoded (or about to be encoded) message, binary
 * members counted by their byte length; it stops counting as soon as it passes `limit`.
 *
 * Socket.IO hands the adapter objects, not frames: their wire size is gone by then. A lower bound
 * never refuses a message that fits, and it costs one walk over what `JSON.parse` just built.
 * Iterative, so a deeply nested payload cannot overflow the stack; a circular object (outbound
 * only: inbound values come from JSON) grows the count until it passes the limit.
 */
export function jsonSize(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    switch (typeof v) {
      case "string":
        size += v.length + 2; // a UTF-16 unit is at least one UTF-8 byte
        break;
      case "number":
      case "bigint":
        size += 1;
        break;
      case "boolean":
        size += 4;
        break;
      case "object":
        if (v === null) size += 4;
        else if (ArrayBuffer.isView(v)) size += v.byteLength;
        else if (v instanceof ArrayBuffer) size += v.byteLength;
        else if (Array.isArray(v)) {
          size += 1 + v.length;
          for (let i = 0; i < v.length; i++) stack.push(v[i]);
        } else {
          size += 1; // with key.length + 4 per member: braces, quotes, colons and commas exactly
          const o = v as Record<string, unknown>;
          for (const key in o) {
            if (!Object.hasOwn(o, key)) continue;
            size += key.length + 4;
            stack.push(o[key]);
          }
        }
        break;
      default:
        break; // undefined, functions and symbols are left out of JSON
    }
    if (size > limit) return size;
  }
  return size;
}
