// A tiny typed emitter: no node:events in the core, and no allocation when nobody listens.
// Listener failures (thrown or rejected) go to `onListenerError` instead of escaping.

// biome-ignore lint/suspicious/noExplicitAny: messages and listeners are the application's own shapes
export type Listener = (...args: any[]) => unknown;
export type EventMap = { [event: string]: Listener };

export class Emitter<E extends EventMap> {
  /** @internal */
  _listeners: { [K in keyof E]?: E[K][] } | undefined = undefined;

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    // No prototype: "toString", "constructor" or "__proto__" are event names like any other.
    const all = (this._listeners ??= Object.create(null) as { [K in keyof E]?: E[K][] });
    (all[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof E>(event: K, listener: E[K]): () => void {
    const off = this.on(event, ((...args: unknown[]) => {
      off();
      return listener(...args);
    }) as E[K]);
    return off;
  }

  off<K extends keyof E>(event: K, listener?: E[K]): void {
    const list = this._listeners?.[event];
    if (!list) return;
    if (!listener) {
      delete this._listeners![event];
      return;
    }
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) delete this._listeners![event];
  }

  listenerCount(event: keyof E): number {
    return this._listeners?.[event]?.length ?? 0;
  }

  /** @internal Calls each listener; returns false when there was none. */
  _emit<K extends keyof E>(event: K, a?: unknown, b?: unknown): boolean {
    const list = this._listeners?.[event];
    if (!list) return false;
    // Copy only when several listeners could unsubscribe each other mid-loop.
    const run = list.length === 1 ? list : list.slice();
    for (let i = 0; i < run.length; i++) {
      try {
        const result = run[i]!(a, b);
        if (result !== undefined && typeof (result as PromiseLike<unknown>).then === "function") {
          (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
            this._onListenerError(error, event as string),
          );
        }
      } catch (error) {
        this._onListenerError(error, event as string);
      }
    }
    return true;
  }

  /** @internal Subclasses route this to their manager's "error" event. */
  _onListenerError(error: unknown, event: string): void {
    console.warn(`[psession] a "${event}" listener failed:`, error);
  }
}
