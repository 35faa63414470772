// The decoders alone, fed every way TCP may cut or join the byte stream.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { FrameSink } from "../src/frame-decoder.js";
import { LengthPrefixDecoder } from "../src/length-prefix.js";
import { NdjsonDecoder } from "../src/ndjson.js";
import { frame } from "./helpers.js";

// "… text" is a decoder in text mode (the default JSON serializer's path).
type Mode = "ndjson" | "ndjson text" | "length-prefix" | "length-prefix text";
const MODES: Mode[] = ["ndjson", "ndjson text", "length-prefix", "length-prefix text"];

function decoderFor(mode: Mode, max = 1 << 20) {
  const frames: string[] = [];
  const oversized: number[] = [];
  const sink: FrameSink = {
    frame: (buffer, start, end) => void frames.push(buffer.toString("utf8", start, end)),
    oversize: (bytes) => void oversized.push(bytes),
  };
  if (mode.endsWith(" text")) sink.line = (text) => void frames.push(text);
  const decoder = mode.startsWith("length-prefix") ? new LengthPrefixDecoder(max, sink) : new NdjsonDecoder(max, sink);
  return { decoder, frames, oversized };
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed: empty chunks too). */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [0, ...offsets.map((o) => o % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}

// Messages with any Unicode (emoji, CJK, control characters, "\n" inside strings), mixed with
// plain ASCII ones (the text modes' fast path).
const messages = fc.array(
  fc.oneof(fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 })),
  { minLength: 1, maxLength: 20 },
);

describe.each(MODES)("%s decoder", (mode) => {
  const framing = mode.startsWith("length-prefix") ? "length-prefix" : "ndjson";
  test("property: any chunking and coalescing of a stream decodes every message exactly", () => {
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 40 }), (values, offsets) => {
        const texts = values.map((v) => JSON.stringify(v));
        const stream = Buffer.concat(texts.map((t) => frame(framing, t)));
        const { decoder, frames, oversized } = decoderFor(mode);
        for (const chunk of cut(stream, offsets)) decoder.push(chunk);
        expect(frames).toEqual(texts);
        expect(frames.map((f) => JSON.parse(f))).toEqual(texts.map((t) => JSON.parse(t)));
        expect(oversized).toEqual([]);
        expect(decoder.buffered).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  test("property: 1-byte chunks decode exactly", () => {
    fc.assert(
      fc.property(messages, (values) => {
        const texts = values.map((v) => JSON.stringify(v));
        const stream = Buffer.concat(texts.map((t) => frame(framing, t)));
        const { decoder, frames } = decoderFor(mode);
        for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
        expect(frames).toEqual(texts);
      }),
      { numRuns: 100 },
    );
  });

  test("a multi-byte UTF-8 character split between chunks at every offset", () => {
    const text = JSON.stringify({ sid: 1, s: "a€😀中b" });
    const bytes = frame(framing, text);
    for (let at = 1; at < bytes.length; at++) {
      const { decoder, frames } = decoderFor(mode);
      decoder.push(bytes.subarray(0, at));
      decoder.push(bytes.subarray(at));
      expect(frames).toEqual([text]);
    }
  });

  test("many messages in one chunk, then a partial one completed later", () => {
    const texts = Array.from({ length: 500 }, (_, i) => JSON.stringify({ sid: i + 1, i }));
    const stream = Buffer.concat(texts.map((t) => frame(framing, t)));
    const { decoder, frames } = decoderFor(mode);
    decoder.push(stream.subarray(0, stream.length - 3));
    expect(frames).toHaveLength(499);
    expect(decoder.buffered).toBeGreaterThan(0);
    decoder.push(stream.subarray(stream.length - 3));
    expect(frames).toEqual(texts);
  });

  test("a frame of exactly maxFrameBytes passes; one byte more is refused and stops the decoder", () => {
    const ok = "x".repeat(64);
    const { decoder, frames, oversized } = decoderFor(mode, 64);
    decoder.push(frame(framing, ok));
    expect(frames).toEqual([ok]);
    decoder.push(frame(framing, "y".repeat(65)));
    expect(oversized).toEqual([65]);
    decoder.push(frame(framing, "z"));
    expect(frames).toEqual([ok]);
  });

  test("property: an endless stream without a frame end holds at most maxFrameBytes", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const max = 4096;
        const { decoder, oversized } = decoderFor(mode, max);
        // ndjson: bytes without a newline; length-prefix: a header announcing 1 GiB, then body bytes.
        if (framing === "length-prefix") decoder.push(Buffer.from([0x40, 0, 0, 0]));
        let pushed = 0;
        for (const size of sizes) {
          decoder.push(Buffer.alloc(size, 0x61));
          pushed += size;
          expect(decoder.buffered).toBeLessThanOrEqual(max);
        }
        if (framing === "length-prefix") expect(oversized).toEqual([0x40000000]);
        else expect(oversized.length).toBe(pushed > max ? 1 : 0);
      }),
      { numRuns: 100 },
    );
  });
});

test("length-prefix: a header split over four chunks, and an empty frame", () => {
  const { decoder, frames } = decoderFor("length-prefix");
  const bytes = Buffer.concat([frame("length-prefix", "hello"), frame("length-prefix", "")]);
  for (const b of bytes) decoder.push(Buffer.from([b]));
  expect(frames).toEqual(["hello", ""]);
});

test.each(["ndjson", "ndjson text"] as const)(
  "%s: CRLF line ends leave a trailing \\r that JSON.parse accepts",
  (mode) => {
    const { decoder, frames } = decoderFor(mode);
    decoder.push(Buffer.from('{"sid":1}\r\n{"sid":2}\r\n'));
    expect(frames.map((f) => JSON.parse(f))).toEqual([{ sid: 1 }, { sid: 2 }]);
  },
);

// Issue 15 item 4: a header announcing up to 4 GiB costs nothing until the bytes arrive.
test("length-prefix: the body buffer grows with the bytes that arrive, never to the announced size up front", () => {
  const frames: number[] = [];
  const decoder = new LengthPrefixDecoder(0xffffffff, {
    frame: (_buffer, start, end) => void frames.push(end - start),
    oversize: () => {
      throw new Error("not oversized");
    },
  });
  const before = process.memoryUsage().arrayBuffers;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xfffffff0, 0);
  decoder.push(Buffer.concat([header, Buffer.alloc(100, 1)]));
  for (let i = 0; i < 10; i++) decoder.push(Buffer.alloc(1000, 2));
  expect(decoder.buffered).toBe(10_100);
  // 4 GiB would show here; what is held is in the tens of KiB.
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  expect(frames).toEqual([]);
});

test("length-prefix: a frame filled across many chunks (growing buffer) comes out exact", () => {
  const got: Buffer[] = [];
  const decoder = new LengthPrefixDecoder(1 << 22, {
    frame: (buffer, start, end) => void got.push(Buffer.from(buffer.subarray(start, end))),
    oversize: () => {
      throw new Error("not oversized");
    },
  });
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const bytes = Buffer.concat([frame("length-prefix", payload), frame("length-prefix", "after")]);
  for (let at = 0; at < bytes.length; at += 777) decoder.push(bytes.subarray(at, at + 777));
  expect(got).toHaveLength(2);
  expect(got[0]!.equals(payload)).toBe(true);
  expect(got[1]!.toString()).toBe("after");
  expect(decoder.buffered).toBe(0);
});

// Issue 15 item 16: blank lines are no frames: skipped without an error object each.
test.each(["ndjson", "ndjson text"] as const)("%s: blank lines (LF and CRLF) are skipped, not handed out", (mode) => {
  const { decoder, frames, oversized } = decoderFor(mode);
  decoder.push(Buffer.from('\n\n\r\n{"sid":1}\n\n'));
  decoder.push(Buffer.alloc(64 * 1024, 0x0a));
  decoder.push(Buffer.from("\r"));
  decoder.push(Buffer.from('\n{"sid":2}\r\n'));
  expect(frames.map((f) => JSON.parse(f))).toEqual([{ sid: 1 }, { sid: 2 }]);
  expect(oversized).toEqual([]);
});
