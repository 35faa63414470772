// MQTT 5 correlationData: "<tag>.<sid>" in ASCII, where the tag is random per attach(). It lets a
// plain MQTT 5 responder, which echoes correlationData but knows nothing of sids, answer a
// session; and it tells our own correlations from anyone else's.

const DOT = 46;
/** No Node `Buffer` anywhere in the adapter: it runs in browsers (MQTT over WebSocket) too. */
const ascii = new TextEncoder();

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
      data = ascii.encode(`${this.tag}.${sid}`);
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
