// Issue 8 items 4 and 5: cancel reaches the handler; progress reaches the initiator and keeps its
// send alive. On the in-memory pair here; over real sockets in the ws and net suites.
import { afterEach, describe, expect, test } from "vitest";
import { SessionAbortError, SessionCancelError, SessionTimeoutError, type Message, type Session } from "psession";
import { delay, loopback, settle } from "./helpers.js";

const pairs: ReturnType<typeof loopback>[] = [];
afterEach(() => {
  for (const p of pairs.splice(0)) {
    p.client.clear();
    p.server.clear();
  }
});

/** A server whose handler never answers by itself; records what its session saw. */
function slowServer() {
  const pair = loopback();
  pairs.push(pair);
  const seen: { session?: Session; ended?: unknown; aborted?: unknown; answered: boolean } = { answered: false };
  pair.server.handle(async (_m: Message, session) => {
    seen.session = session;
    session.on("end", (reason) => void (seen.ended = reason));
    session.signal.addEventListener("abort", () => void (seen.aborted = session.signal.reason));
    await delay(100);
    seen.answered = true;
    return { late: true };
  });
  return { ...pair, seen };
}

describe("cancel reaches the handler (issue 8 item 4)", () => {
  const cases: [string, (p: ReturnType<typeof slowServer>) => Promise<unknown>][] = [
    [
      "session.cancel()",
      async ({ client, clientPort }) => {
        const s = client.createSession(clientPort.name);
        const p = settle(s.send({ q: 1 }));
        await delay(10);
        s.cancel();
        return p;
      },
    ],
    [
      "session.abort()",
      async ({ client, clientPort }) => {
        const s = client.createSession(clientPort.name);
        const p = settle(s.send({ q: 1 }));
        await delay(10);
        s.abort();
        return p;
      },
    ],
    [
      "an AbortSignal",
      async ({ clientPort }) => {
        const controller = new AbortController();
        const p = settle(clientPort.request({ q: 1 }, { signal: controller.signal }));
        await delay(10);
        controller.abort(new Error("user left"));
        return p;
      },
    ],
    [
      "the final timeout",
      async ({ clientPort }) => settle(clientPort.request({ q: 1 }, { timeout: 20, retryCount: 1 })),
    ],
    [
      "the initiator's port destroyed",
      async ({ clientPort }) => {
        const p = settle(clientPort.request({ q: 1 }));
        await delay(10);
        clientPort.destroy();
        return p;
      },
    ],
  ];
  for (const [how, run] of cases) {
    test(`${how}: the handler's session.signal aborts, its end event fires, its answer is dropped`, async () => {
      const pair = slowServer();
      const errors: Error[] = [];
      pair.client.on("error", (e) => void errors.push(e));
      const outcome = await run(pair);
      expect(outcome).toBeInstanceOf(Error);
      expect([SessionCancelError, SessionAbortError, SessionTimeoutError].some((E) => outcome instanceof E)).toBe(true);
      await delay(150);
      expect(pair.seen.session?.signal.aborted).toBe(true);
      expect(pair.seen.aborted).toBeInstanceOf(SessionCancelError);
      expect(String((pair.seen.aborted as Error).message)).toMatch(/cancelled by the remote/);
      expect(pair.seen.ended).toBe(pair.seen.aborted);
      expect(pair.seen.answered).toBe(true); // the handler finished its work...
      expect(errors.filter((e) => /late/.test(e.message))).toEqual([]); // ...and its answer never left
      expect(pair.server.size).toBe(0);
    });
  }

  test("the initiator's connection closing aborts the handler's signal", async () => {
    const pair = slowServer();
    const p = settle(pair.clientPort.request({ q: 1 }));
    await delay(10);
    pair.clientEnd.close(new Error("cable pulled"));
    expect(await p).toBeInstanceOf(SessionAbortError);
    expect(pair.seen.session?.signal.aborted).toBe(true);
    expect(pair.seen.aborted).toBeInstanceOf(SessionAbortError);
  });

  test("a responder that gives up tells the initiator, whose send fails at once", async () => {
    const pair = loopback();
    pairs.push(pair);
    pair.server.handle(async (_m, session) => {
      await delay(10);
      session.abort(new Error("out of stock"));
      return {};
    });
    const started = Date.now();
    const outcome = await settle(pair.clientPort.request({ q: 1 }, { timeout: 5000 }));
    expect(outcome).toBeInstanceOf(SessionCancelError);
    expect((outcome as Error).message).toMatch(/cancelled by the remote: SessionAbortError/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("progress (issue 8 item 5)", () => {
  test("onProgress gets each interim message and each one restarts the timeout", async () => {
    const pair = loopback();
    pairs.push(pair);
    pair.server.handle(async (m: Message, session) => {
      for (let t = m.from; t < m.to; t += 2) {
        await delay(30);
        session.progress({ temperature: t });
      }
      await delay(30);
      return { temperature: m.to, done: true };
    });
    const seen: number[] = [];
    // 6 steps of 30 ms: 180 ms in all, far over the 60 ms timeout that each progress restarts.
    const reply = await pair.clientPort.request(
      { from: 18, to: 28 },
      { timeout: 60, onProgress: (p) => void seen.push(p.temperature) },
    );
    expect(reply).toMatchObject({ temperature: 28, done: true });
    expect(seen).toEqual([18, 20, 22, 24, 26]);
  });

  test("without onProgress, progress still keeps the send alive; late progress is dropped quietly", async () => {
    const pair = loopback();
    pairs.push(pair);
    pair.server.handle(async (_m, session) => {
      await delay(30);
      session.progress({ step: 1 });
      await delay(30);
      return { ok: true };
    });
    expect(await pair.clientPort.request({}, { timeout: 45 })).toMatchObject({ ok: true });
    expect(pair.errors).toEqual([]);
  });

  test("a throwing onProgress is reported and the send still completes", async () => {
    const pair = loopback();
    pairs.push(pair);
    pair.server.handle(async (_m, session) => {
      session.progress({ step: 1 });
      await delay(5);
      return { ok: true };
    });
    const reply = await pair.clientPort.request(
      {},
      {
        onProgress: () => {
          throw new Error("ui gone");
        },
      },
    );
    expect(reply).toMatchObject({ ok: true });
    expect(pair.errors.map((e) => e.message)).toContain("ui gone");
  });
});
