// The hand-written baseline every benchmark compares against: a Map of id → {resolve, reject,
// timer}, one setTimeout per request, on whatever channel the caller wires in.

export interface IdMapClient<Reply> {
  /** Sends a request built by `frame(id)` and resolves with the reply carrying that id. */
  call(frame: (id: number) => void): Promise<Reply>;
  /** Feed every reply here; `id` is the reply's id. */
  settle(id: number, reply: Reply): void;
  /** Clears the timers of requests still pending. */
  dispose(): void;
}

export function createIdMapClient<Reply = unknown>(timeout: number): IdMapClient<Reply> {
  const pending = new Map<
    number,
    { resolve: (v: Reply) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();
  let seq = 0;
  return {
    call(frame) {
      const id = ++seq;
      return new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("timeout"));
        }, timeout);
        pending.set(id, { resolve, reject, timer });
        frame(id);
      });
    },
    settle(id, reply) {
      const p = pending.get(id);
      if (p === undefined) return;
      pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(reply);
    },
    dispose() {
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
    },
  };
}
