import type { FrameDecoder, FrameSink } from "./frame-decoder.js";

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
  private partial: Buffer | undefined = undefined;
  private held = 0;
  private stopped = false;

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

  push(chunk: Buffer): void {
    if (this.stopped) return;
    const length = chunk.length;
    let start = 0;
    let nl = chunk.indexOf(NL);
    if (this.held > 0) {
      if (nl === -1) {
        this.hold(chunk, 0, length);
        return;
      }
      if (!this.hold(chunk, 0, nl)) return;
      const line = this.partial!;
      const size = this.held;
      // The consumer may keep views of the buffer (a binary serializer): never reuse it.
      this.partial = undefined;
      this.held = 0;
      if (size === 1 && line[0] === CR) {
        // a lone "\r": an empty CRLF line
      } else if (this.sink.line !== undefined) this.sink.line(line.toString(undefined, 0, size));
      else this.sink.frame(line, 0, size);
      if (this.stopped) return;
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (nl !== -1) {
      if (this.sink.line !== undefined) start = this.lines(chunk, start, nl);
      else start = this.frames(chunk, start, nl);
      if (start === -1) return;
    }
    if (start < length) this.hold(chunk, start, length);
  }

  /** Hands out every complete line from `start` (first newline at `nl`); returns where the rest begins, -1 when stopped. */
  private frames(chunk: Buffer, start: number, nl: number): number {
    const max = this.maxFrameBytes;
    while (nl !== -1) {
      if (nl - start > max) {
        this.fail(nl - start);
        return -1;
      }
      if (nl - start > 1 || (nl - start === 1 && chunk[start] !== CR)) {
        this.sink.frame(chunk, start, nl);
        if (this.stopped) return -1;
      }
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    return start;
  }

  /** Text mode: decodes all complete lines at once; each line is a substring (no copy). */
  private lines(chunk: Buffer, start: number, nl: number): number {
    const last = chunk.lastIndexOf(NL);
    const text = chunk.toString(undefined, start, last);
    const max = this.maxFrameBytes;
    // A UTF-16 unit takes at most 3 UTF-8 bytes: only a long line needs measuring.
    const short = max / 3;
    const sink = this.sink;
    let from = 0;
    for (;;) {
      let end = text.indexOf("\n", from);
      if (end === -1) end = text.length;
      const size = end - from;
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
      if (end === text.length) return last + 1;
      from = end + 1;
    }
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
    throw new TypeError("the serializer's output contains a newline byte: use length-prefix framing for binary serializers");
  }
  const out = Buffer.allocUnsafe(payload.length + 1);
  out.set(payload, 0);
  out[payload.length] = NL;
  return out;
}
