/** Receives what a decoder finds in the byte stream. Frames are handed out as (buffer, start, end). */
export interface FrameSink {
  /** One complete frame. `buffer` may be a socket chunk; read it before returning. */
  frame(buffer: Buffer, start: number, end: number): void;
  /**
   * Text mode (NDJSON with a text serializer): one complete line, already decoded. When present the
   * NDJSON decoder decodes each chunk's complete lines with one UTF-8 decode and hands out substrings.
   */
  line?(text: string): void;
  /** A frame larger than the limit was announced or is growing past it; the decoder has stopped. */
  oversize(bytes: number, limit: number): void;
}

/** Splits a byte stream into frames. Memory held between chunks never exceeds the frame limit. */
export interface FrameDecoder {
  push(chunk: Buffer): void;
  /** Ignore everything from now on (the connection is going away). */
  stop(): void;
  /** Bytes held for an incomplete frame. */
  readonly buffered: number;
}
