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

/** The core's `ReadBudget`, as a decoder uses it. */
export interface Slice {
  /** Counts one frame of `cost`; false once this turn's slice is spent. */
  spend(cost: number): boolean;
}

/** Splits a byte stream into frames. Memory held between chunks never exceeds the frame limit. */
export interface FrameDecoder {
  /**
   * Decodes `chunk` and returns how many of its bytes were consumed: all of them, unless `slice`
   * ran out first (the caller keeps the rest and pushes it again in a later turn).
   */
  push(chunk: Buffer): number;
  /**
   * Charged for every frame, blank lines too (`frameCost(bytes)`); the decoder stops after the
   * frame that spends it. None: no limit.
   */
  slice: Slice | undefined;
  /** Ignore everything from now on (the connection is going away). */
  stop(): void;
  /** Bytes held for an incomplete frame. */
  readonly buffered: number;
}

/**
 * Text decoders decode at most this many bytes of a chunk at once (more only for one long frame):
 * a decoder stopped by its slice decodes the rest of that window again, never the whole chunk.
 */
export const TEXT_WINDOW = 4 * 1024;
