// How a command ended, named for people, and a quantile of the times the transcript measures itself.
import { SessionAbortError, SessionCancelError, SessionChannelError, SessionTimeoutError } from "psession";

export type Outcome = "answered" | "timeout" | "cancelled" | "offline" | "aborted" | "failed";

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof SessionTimeoutError) return "timeout";
  if (error instanceof SessionCancelError) return "cancelled";
  if (error instanceof SessionChannelError && error.code === "OFFLINE") return "offline";
  // The adapter aborts a device's pending sessions when it goes offline, with OFFLINE as the cause.
  if (error instanceof SessionAbortError) {
    const cause = error.cause;
    return cause instanceof SessionChannelError && cause.code === "OFFLINE" ? "offline" : "aborted";
  }
  return "failed";
}

/** The value at quantile `q` (0..1) of `values`, by nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
