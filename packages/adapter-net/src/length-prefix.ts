import { frameCost } from "psession";
import { type FrameDecoder, type FrameSink, type Slice, TEXT_WINDOW } from "./frame-decoder.js";

/** Bytes of the big-endian unsigned length header in front of every frame. */
export const HEADER_BYTES = 4;

/** Any character outside ASCII: for ASCII text, latin1 and UTF-8 are the same bytes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included, on purpose
export const NON_ASCII = /[^\x00-\x7f]/;

/** The 4-byte header of a `bytes`-long frame, as latin1 characters. */
export function latin1Header(bytes: number): string {
  return String.fromCharCode(bytes >>> 24, (bytes >>> 16) & 255, (bytes >>> 8) & 255, bytes & 255);
}

/**
 * The first buffer of a frame spanning chunks holds at least this much (or the whole frame): a
 * peer that sends a header and one byte holds 4 KiB here, not what its header announced.
 */
const MIN_BODY = 4 * 1024;

/**
 * Frames with a 4-byte big-endian length header. A frame whose header announces more than
 * `maxFrameBytes` is refused before any of its body is buffered. A body that fits in the current
 * chunk is handed out in place; one spanning chunks is copied into a buffer that grows (doubling)
 * as its bytes actually arrive, never to the announced size up front: a 4-byte header announcing
 * 4 GiB costs nothing until 4 GiB arrive.
 * In text mode (`sink.line`, the JSON serializer) the chunk is decoded as latin1 a window at a time
 * and every ASCII frame in it is handed out as a substring; a frame with other bytes is decoded as
 * UTF-8.
 */
export class LengthPrefixDecoder implements FrameDecoder {
  slice: Slice | undefined = undefined;
  private header = 0;
  private headerBytes = 0;
  private body: Buffer | undefined = undefined;
  /** Announced size of the frame being filled. */
  private expected = 0;
  private filled = 0;
  private stopped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly sink: FrameSink,
  ) {}

  get buffered(): number {
    return this.headerBytes + this.filled;
  }

  stop(): void {
    this.stopped = true;
    this.body = undefined;
    this.filled = 0;
    this.headerBytes = 0;
  }

  push(chunk: Buffer): number {
    const length = chunk.length;
    const line = this.sink.line;
    let latin: string | undefined; // chunk[base, base + latin.length) as latin1, in text mode
    let base = 0;
    let i = 0;
    while (i < length && !this.stopped) {
      let body = this.body;
      if (body === undefined) {
        let size: number;
        if (this.headerBytes === 0 && length - i >= HEADER_BYTES) {
          size = chunk.readUInt32BE(i);
          i += HEADER_BYTES;
        } else {
          while (this.headerBytes < HEADER_BYTES && i < length) {
            this.header = this.header * 256 + chunk[i++]!;
            this.headerBytes++;
          }
          if (this.headerBytes < HEADER_BYTES) return length;
          size = this.header;
          this.header = 0;
          this.headerBytes = 0;
        }
        if (size > this.maxFrameBytes) {
          this.stop();
          this.sink.oversize(size, this.maxFrameBytes);
          return length;
        }
        if (length - i >= size) {
          if (line !== undefined) {
            if (latin === undefined || i + size > base + latin.length) {
              base = i;
              latin = chunk.toString("latin1", i, Math.min(length, i + Math.max(TEXT_WINDOW, size)));
            }
            const text = latin.slice(i - base, i - base + size);
            if (NON_ASCII.test(text)) this.sink.frame(chunk, i, i + size);
            else line(text);
          } else {
            this.sink.frame(chunk, i, i + size);
          }
          i += size;
          if (!this.more(size)) return this.stopped ? length : i;
          continue;
        }
        this.body = body = Buffer.allocUnsafe(Math.min(size, Math.max(MIN_BODY, length - i)));
        this.expected = size;
        this.filled = 0;
      }
      const n = Math.min(this.expected - this.filled, length - i);
      if (this.filled + n > body.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.expected, Math.max(this.filled + n, body.length * 2)));
        body.copy(grown, 0, 0, this.filled);
        this.body = body = grown;
      }
      chunk.copy(body, this.filled, i, i + n);
      this.filled += n;
      i += n;
      if (this.filled === this.expected) {
        this.body = undefined;
        this.filled = 0;
        this.sink.frame(body, 0, this.expected);
        if (!this.more(this.expected)) return this.stopped ? length : i;
      }
    }
    return length;
  }

  /** Charges the slice for a frame of `bytes`; false once it has run out. */
  private more(bytes: number): boolean {
    const slice = this.slice;
    return slice === undefined || slice.spend(frameCost(bytes));
  }
}
