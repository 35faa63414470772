// Monotonic milliseconds in browsers, workers and Node alike.
export const now: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function"
    ? () => performance.now()
    : () => Date.now();

/**
 * Runs `fn` once the current turn of the event loop is over: with setImmediate (Node) after every
 * I/O callback of this turn, else (browsers, workers) after the current task's microtasks. Clock
 * readings cached until then are as fresh as Node's own timers, which read libuv's clock once
 * per turn.
 */
export function afterTurn(fn: () => void): void {
  // Looked up on each call, so fake timers that fake setImmediate keep the clock in their time.
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === "function") immediate(fn);
  else queueMicrotask(fn);
}
