import type { Session } from "./session.js";

// One "abort" listener per AbortSignal, however many pending sends share it: a signal shared by
// more than 10 sends would otherwise print Node's MaxListenersExceededWarning.
const watchers = new WeakMap<AbortSignal, Set<Session>>();

/** Fails `session`'s pending send when `signal` aborts; returns the function that stops watching. */
export function watchSignal(signal: AbortSignal, session: Session): () => void {
  let sessions = watchers.get(signal);
  if (sessions === undefined) {
    const set = (sessions = new Set());
    watchers.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        watchers.delete(signal);
        for (const s of [...set]) s._abortedBySignal(signal);
      },
      { once: true },
    );
  }
  sessions.add(session);
  return () => {
    sessions.delete(session);
  };
}
