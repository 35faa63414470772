// ReadBudget, the fair-service slices every server transport reads its connections with (issue 14).
import { frameCost, ReadBudget } from "psession";
import { expect, test } from "vitest";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Turns in which a busy connection's slices run out, until no light connection counts as served. */
async function ageLightConnections(): Promise<void> {
  const busy = new ReadBudget();
  for (let i = 0; i < 1100; i++) {
    busy.begin(true);
    while (busy.spend(1));
    await nextTurn();
  }
}

test("frameCost: 1 per frame plus 1 per KiB", () => {
  expect(frameCost(0)).toBe(1);
  expect(frameCost(1023)).toBe(1);
  expect(frameCost(1024)).toBe(2);
  expect(frameCost(1024 * 1024)).toBe(1025);
});

test("a connection read alone gets 256 units per turn, whatever it sends", async () => {
  await ageLightConnections();
  const budget = new ReadBudget();
  expect(budget.begin()).toBe(true);
  for (let i = 1; i < 256; i++) expect(budget.spend(1)).toBe(true);
  expect(budget.spend(1)).toBe(false);
  expect(budget.begin()).toBe(false); // the same turn: spent
  await nextTurn();
  expect(budget.begin()).toBe(true);
  expect(budget.spend(frameCost(300_000))).toBe(false); // one big frame is a slice
  expect(budget.begin(true)).toBe(true); // a continuation always starts a slice
});

test("while a light connection is served, a busy one gets one frame per slice; busy ones among themselves keep full slices", async () => {
  await ageLightConnections();
  const busyA = new ReadBudget();
  const busyB = new ReadBudget();
  // Busy: their input does not fit in a slice, they go on in continuations.
  busyA.begin();
  busyB.begin();
  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(true); // no light connection: a full slice
  expect(busyB.begin(true)).toBe(true);
  expect(busyB.spend(1)).toBe(true);

  const light = new ReadBudget();
  light.begin(); // a request, decoded in its slice (a new connection counts as busy until then)
  while (light.spend(1)); // a slice that ran out exactly at the end of its input: no continuation
  await nextTurn();
  expect(light.begin()).toBe(true); // the next request: light now, a full slice
  expect(light.spend(1)).toBe(true);

  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(false); // one frame, then the light connection's turn
  expect(busyB.begin(true)).toBe(true);
  expect(busyB.spend(1)).toBe(false);
  expect(light.begin()).toBe(true); // unaffected
  expect(light.spend(1)).toBe(true);

  // Once the light connection has been quiet for a while, busy ones get full slices again.
  await ageLightConnections();
  expect(busyA.begin(true)).toBe(true);
  expect(busyA.spend(1)).toBe(true);
});
