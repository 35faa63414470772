// MQTT 5 correlationData: "<tag>.<sid>" in ASCII, where the tag is random per attach(). It lets a
// plain MQTT 5 responder, which echoes correlationData but knows nothing of sids, answer a
// session; and it tells our own correlations from anyone else's.

const DOT = 46;
const ascii = new TextEncoder();
/**
 * Node's Buffer where there is one (the adapter also runs in browsers, MQTT over WebSocket, where
 * there is none). MQTT.js deep-copies every QoS 1 publish for its outgoing store: a `Buffer` is
 * copied by its own bytes, a plain `Uint8Array` through a copy of its whole ArrayBuffer and a
 * generic constructor call, about 0.8 µs more per request (docs/benchmarks.md).
 */
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: "latin1"): Uint8Array } }).Buffer;

/** A random tag of 8 base-36 characters. */
export function newTag(): string {
  let tag = "";
  while (tag.length < 8) tag += Math.floor(Math.random() * 36).toString(36);
  return tag;
}

export class Correlation {
  private readonly prefix: Uint8Array;

  constructor(readonly tag: string) {
    this.prefix = ascii.encode(`${tag}.`);
  }

  /** Encoded correlations by sid: the same bytes for every message of a sid, built once. */
  private readonly cache: (Uint8Array | undefined)[] = [];

  encode(sid: number): Uint8Array {
    let data = this.cache[sid];
    if (data === undefined) {
      const text = `${this.tag}.${sid}`;
      data = NodeBuffer === undefined ? ascii.encode(text) : NodeBuffer.from(text, "latin1");
      if (sid < 0x10000) this.cache[sid] = data;
    }
    return data;
  }

  /** The sid in one of our correlations; undefined for anything else (another requester's, garbage). */
  decode(data: unknown): number | undefined {
    if (!(data instanceof Uint8Array)) return undefined;
    const prefix = this.prefix;
    const n = prefix.length;
    if (data.length <= n || data.length > n + 10 || data[n - 1] !== DOT) return undefined;
    for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return undefined;
    let sid = 0;
    for (let i = n; i < data.length; i++) {
      const digit = data[i]! - 48;
      if (digit < 0 || digit > 9) return undefined;
      sid = sid * 10 + digit;
    }
    return sid;
  }
}
