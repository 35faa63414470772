// ReadBudget, the fair-service slices every server transport reads its connections with (issue 14).
import { frameCost, ReadBudget } from "psession";
import { expect, test } from "vitest";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Long enough for every light connection of an earlier test to be no longer "being served". */
const quiet = () => new Promise<void>((resolve) => setTimeout(resolve, 60));

test("frameCost: 1 per frame plus 1 per KiB", () => {
  expect(frameCost(0)).toBe(1);
  expect(frameCost(1023)).toBe(1);
  expect(frameCost(1024)).toBe(2);
  expect(frameCost(1024 * 1024)).toBe(1025);
});

test("a connection read alone gets 64 units per turn, whatever it sends", async () => {
  await quiet();
  const budget = new ReadBudget();
  expect(budget.begin()).toBe(true);
  for (let i = 1; i < 64; i++) expect(budget.spend(1)).toBe(true);
  expect(budget.spend(1)).toBe(false);
  expect(budget.begin()).toBe(false); // the same turn: spent
  await nextTurn();
  expect(budget.begin()).toBe(true);
  expect(budget.spend(frameCost(100_000))).toBe(false); // one big frame is a slice
});

test("while a light connection is served, a busy one gets one frame per slice; busy ones among themselves keep 64", async () => {
  await quiet();
  const busyA = new ReadBudget();
  const busyB = new ReadBudget();
  // Busy: their input does not fit in a slice, they go on in continuations.
  busyA.begin();
  busyB.begin();
  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(true); // no light connection yet: a full slice
  expect(busyB.begin(true)).toBe(true);
  expect(busyB.spend(1)).toBe(true);

  const light = new ReadBudget();
  light.begin(); // a request, decoded in its slice (a new connection counts as busy until then)
  light.spend(1);
  await nextTurn();
  expect(light.begin()).toBe(true); // the next request: light now, a full slice
  expect(light.spend(1)).toBe(true);

  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(false); // one frame, then the light connection's turn
  expect(busyB.begin(true)).toBe(true);
  expect(busyB.spend(1)).toBe(false);

  // Once the light connection has been quiet for a while, busy ones get full slices again.
  await quiet();
  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(true);
});
