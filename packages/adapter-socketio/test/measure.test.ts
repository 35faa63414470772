import { describe, expect, test } from "vitest";
import { jsonSize } from "../src/measure.js";

describe("jsonSize: a lower bound of a message's JSON size", () => {
  test("never above the real JSON size; binary members by their byte length", () => {
    const samples: unknown[] = [
      { sid: 1, $turn: 3, command: "turnOnLight", args: [1, "two", null, true, { deep: ["x"] }] },
      { text: "héllo wörld ✓ 🎉", n: -12.5e10, nested: { a: { b: { c: [] } } } },
      { left: undefined, out: () => 1, kept: 1, list: [undefined, null, new Date(0)] },
      [],
      {},
      "plain",
    ];
    for (const value of samples) {
      const json = Buffer.byteLength(JSON.stringify(value));
      const size = jsonSize(value, Number.MAX_SAFE_INTEGER);
      expect(size).toBeLessThanOrEqual(json);
      expect(size).toBeGreaterThan(json / 3);
    }
    expect(jsonSize({ blob: new Uint8Array(5000) }, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(5000);
    expect(jsonSize({ blob: new ArrayBuffer(700) }, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(700);
  });

  test("stops counting past the limit; 100,000 levels of nesting need no recursion; a cycle ends", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonSize(deep, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(200_000);
    expect(jsonSize(deep, 1000)).toBeLessThan(1010);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(jsonSize(cycle, 10_000)).toBeGreaterThan(10_000);
    // A long flat object stops at the limit too, not at its end; an array over it by its commas alone is not walked.
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(jsonSize(wide, 1000)).toBeLessThan(1020);
    expect(jsonSize(new Array(1_000_000).fill("x"), 1000)).toBe(1_000_001);
  });
});
