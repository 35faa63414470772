// How the demo writes messages and durations for people (the transcript and the page alike).

/** A duration: 0.42 ms, 12.3 ms, 412 ms. */
export function ms(value: number): string {
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${Math.round(value)} ms`;
}

/** The application's fields of a message, without psession's (sid, $re, $progress, …), as JSON. */
export function fields(message: Record<string, unknown>): string {
  const own = Object.entries(message).filter(([key]) => key !== "sid" && !key.startsWith("$"));
  return JSON.stringify(Object.fromEntries(own));
}
