import { frameCost } from "psession";
import { type FrameDecoder, type FrameSink, type Slice, TEXT_WINDOW } from "./frame-decoder.js";

const NL = 0x0a;

const CR = 0x0d;

/**
 * Newline-delimited frames. A frame is decoded only once its newline has arrived, so a multi-byte
 * UTF-8 character split across chunks is whole by then (0x0A never occurs inside one). Lines that
 * fit in a chunk are handed out in place; only a line spanning chunks is copied, into a buffer
 * that grows up to `maxFrameBytes` and no further. Empty lines (and a lone "\r") are skipped: a
 * keep-alive for line peers, and no error object per attacker byte.
 */
export class NdjsonDecoder implements FrameDecoder {
  slice: Slice | undefined = undefined;
  private partial: Buffer | undefined = undefined;
  private held = 0;
  private stopped = false;
  /** The slice ran out inside frames() or lines(). */
  private spent = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly sink: FrameSink,
  ) {}

  get buffered(): number {
    return this.held;
  }

  stop(): void {
    this.stopped = true;
    this.partial = undefined;
    this.held = 0;
  }

  push(chunk: Buffer): number {
    const length = chunk.length;
    if (this.stopped) return length;
    let start = 0;
    let nl = chunk.indexOf(NL);
    if (this.held > 0) {
      if (nl === -1) {
        this.hold(chunk, 0, length);
        return length;
      }
      if (!this.hold(chunk, 0, nl)) return length;
      const line = this.partial!;
      const size = this.held;
      // The consumer may keep views of the buffer (a binary serializer): never reuse it.
      this.partial = undefined;
      this.held = 0;
      if (size === 1 && line[0] === CR) {
        // a lone "\r": an empty CRLF line
      } else if (this.sink.line !== undefined) this.sink.line(line.toString(undefined, 0, size));
      else this.sink.frame(line, 0, size);
      if (this.stopped) return length;
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
      if (!this.more(size) && nl !== -1) return start;
    }
    if (nl !== -1) {
      this.spent = false;
      if (this.sink.line !== undefined) start = this.lines(chunk, start, nl);
      else start = this.frames(chunk, start, nl);
      if (start === -1) return length;
      // The slice is spent with whole lines left: the caller pushes the rest in a later turn.
      if (this.spent && chunk.indexOf(NL, start) !== -1) return start;
    }
    if (start < length) this.hold(chunk, start, length);
    return length;
  }

  /**
   * Hands out complete lines from `start` (first newline at `nl`) while the slice lasts; returns
   * where the rest begins (after the last newline used), -1 when stopped.
   */
  private frames(chunk: Buffer, start: number, nl: number): number {
    const max = this.maxFrameBytes;
    while (nl !== -1) {
      const size = nl - start;
      if (size > max) {
        this.fail(size);
        return -1;
      }
      if (size > 1 || (size === 1 && chunk[start] !== CR)) {
        this.sink.frame(chunk, start, nl);
        if (this.stopped) return -1;
      }
      start = nl + 1;
      if (!this.more(size)) return start;
      nl = chunk.indexOf(NL, start);
    }
    return start;
  }

  /**
   * Text mode: decodes the complete lines of a window (TEXT_WINDOW bytes, or one longer line) at
   * once; each line is a substring (no copy). Same contract as `frames`.
   */
  private lines(chunk: Buffer, start: number, nl: number): number {
    const max = this.maxFrameBytes;
    // A UTF-16 unit takes at most 3 UTF-8 bytes: only a long line needs measuring.
    const short = max / 3;
    const sink = this.sink;
    for (;;) {
      const last = Math.max(nl, chunk.lastIndexOf(NL, start + TEXT_WINDOW));
      const text = chunk.toString(undefined, start, last);
      let from = 0;
      let used = 0; // lines consumed in this window
      for (;;) {
        let end = text.indexOf("\n", from);
        if (end === -1) end = text.length;
        const size = end - from;
        used++;
        if (size > 1 || (size === 1 && text.charCodeAt(from) !== CR)) {
          const line = text.slice(from, end);
          if (size > short) {
            const bytes = Buffer.byteLength(line);
            if (bytes > max) {
              this.fail(bytes);
              return -1;
            }
          }
          sink.line!(line);
          if (this.stopped) return -1;
        }
        if (end === text.length) {
          if (!this.more(size)) return last + 1;
          break;
        }
        from = end + 1;
        if (!this.more(size)) {
          // Stopped inside the window: ASCII text maps 1:1 to bytes; otherwise find the byte
          // offset by its newlines (a re-encode could differ from bytes that were not UTF-8).
          if (text.length === last - start) return start + from;
          let at = start;
          for (let n = 0; n < used; n++) at = chunk.indexOf(NL, at) + 1;
          return at;
        }
      }
      start = last + 1;
      nl = chunk.indexOf(NL, start);
      if (nl === -1) return start;
    }
  }

  /** Charges the slice for a frame of `bytes`; false (and `spent`) once it has run out. */
  private more(bytes: number): boolean {
    const slice = this.slice;
    if (slice === undefined || slice.spend(frameCost(bytes))) return true;
    this.spent = true;
    return false;
  }

  /** Appends chunk[from, to) to the incomplete line; false (and stopped) past the limit. */
  private hold(chunk: Buffer, from: number, to: number): boolean {
    const size = this.held + (to - from);
    if (size > this.maxFrameBytes) {
      this.fail(size);
      return false;
    }
    let partial = this.partial;
    if (partial === undefined || partial.length < size) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxFrameBytes, Math.max(size, 4096, (partial?.length ?? 0) * 2)));
      if (partial !== undefined) partial.copy(grown, 0, 0, this.held);
      this.partial = partial = grown;
    }
    chunk.copy(partial, this.held, from, to);
    this.held = size;
    return true;
  }

  private fail(bytes: number): void {
    this.stop();
    this.sink.oversize(bytes, this.maxFrameBytes);
  }
}

/** `payload` + "\n" as one buffer (for binary payloads; strings are written as `text + "\n"`). */
export function ndjsonFrame(payload: Uint8Array): Buffer {
  if (payload.indexOf(NL) !== -1) {
    throw new TypeError(
      "the serializer's output contains a newline byte: use length-prefix framing for binary serializers",
    );
  }
  const out = Buffer.allocUnsafe(payload.length + 1);
  out.set(payload, 0);
  out[payload.length] = NL;
  return out;
}
