// The sid table against a Map model: random adds, deletes and lookups, including ids that collide
// modulo the table size and runs of probing that deletion must repair.
import fc from "fast-check";
import { expect, test } from "vitest";
import { SidTable } from "../src/sid-table.js";

type Op = { kind: "add" | "delete" | "get"; id: number };
const op = fc.record({
  kind: fc.constantFrom<Op["kind"]>("add", "delete", "get"),
  // Few distinct ids, many of them equal modulo 16/32/64: collisions are the point.
  id: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 17, 33, 49, 65, 129, 257, 16, 32, 48, 64, 65_535)),
});

test("SidTable behaves like a Map keyed by id", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const table = new SidTable<{ id: number }>();
      const model = new Map<number, { id: number }>();
      for (const { kind, id } of ops) {
        if (kind === "add") {
          if (model.has(id)) continue;
          const entry = { id };
          table.add(entry);
          model.set(id, entry);
        } else if (kind === "delete") {
          const entry = model.get(id) ?? { id };
          expect(table.delete(entry)).toBe(model.delete(id));
        } else {
          expect(table.get(id)).toBe(model.get(id));
        }
        expect(table.size).toBe(model.size);
      }
      for (const [id, entry] of model) expect(table.get(id)).toBe(entry);
      expect(table.values().map((e) => e.id)).toEqual([...model.keys()].sort((a, b) => a - b));
      table.compact();
      for (const [id, entry] of model) expect(table.get(id)).toBe(entry);
    }),
    { numRuns: 500 },
  );
});

test("delete only removes the very entry stored under the id", () => {
  const table = new SidTable<{ id: number }>();
  const a = { id: 5 };
  table.add(a);
  expect(table.delete({ id: 5 })).toBe(false);
  expect(table.get(5)).toBe(a);
});
