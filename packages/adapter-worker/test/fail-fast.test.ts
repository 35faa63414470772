// Comlink's open issues #601/#655/#692: a call that never settles when the worker dies. Here every
// pending session ends at once, with a typed error, whatever ends the worker.
import { MessageChannel } from "node:worker_threads";
import { attach } from "@psession/worker";
import { SessionAbortError, SessionChannelError } from "psession";
import { describe, expect, test } from "vitest";
import { manager, nextMessage, startWorker } from "./helpers.js";

async function hanging(count: number, options: Record<string, unknown> = {}) {
  const worker = await startWorker("responder", { options: {} });
  const ready = nextMessage(worker, (m) => m.ready === true);
  const { manager: m, errors } = manager();
  const handle = attach(m, worker, options);
  await ready;
  const hung = Array.from({ length: count }, (_, i) => nextMessage(worker, (v) => v.hanging === i));
  const pending = Array.from({ length: count }, (_, i) =>
    m.request({ op: "hang", tag: i }, { timeout: 60_000 }).catch((e: unknown) => e as Error),
  );
  await Promise.all(hung);
  return { worker, manager: m, errors, handle, pending };
}

/** The reason a pending session was ended with, and how long after `since` it came. */
async function ended(pending: Promise<Error>[], since: number) {
  const errors = await Promise.all(pending);
  return { errors, ms: Date.now() - since };
}

describe("a worker that goes away ends its pending sessions at once", () => {
  test("it crashes (an uncaught error): SessionAbortError, the crash as its cause", async () => {
    const { manager: m, pending, errors: reported } = await hanging(5);
    const t = Date.now();
    const crash = m.request({ op: "crash" }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    const { errors, ms } = await ended([...pending, crash], t);
    expect(ms).toBeLessThan(5000);
    for (const e of errors) {
      expect(e).toBeInstanceOf(SessionAbortError);
      expect(e.cause).toBeInstanceOf(SessionChannelError);
      expect((e.cause as SessionChannelError).code).toBe("CLOSED");
      expect((e.cause as Error).message).toMatch(/crashed: boom in the worker/);
    }
    expect(m.size).toBe(0);
    // The crash itself is reported once on the manager, so it does not vanish in psession's listener.
    expect(reported.map((e) => e.message)).toEqual(["the worker crashed: boom in the worker"]);
  });

  test("it exits (process.exit in the worker)", async () => {
    const { manager: m, pending } = await hanging(3);
    const exit = m.request({ op: "exit" }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    const { errors } = await ended([...pending, exit], Date.now());
    for (const e of errors) {
      expect(e).toBeInstanceOf(SessionAbortError);
      expect((e.cause as Error).message).toMatch(/exited \(exit code 3\)/);
    }
  });

  test("it is terminated through the handle: the sessions end before terminate() resolves", async () => {
    const { handle, pending } = await hanging(3);
    let settled = 0;
    for (const p of pending) void p.then(() => settled++);
    const terminating = handle.terminate();
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(3);
    await terminating;
    for (const e of await Promise.all(pending)) {
      expect(e).toBeInstanceOf(SessionAbortError);
      expect((e.cause as Error).message).toMatch(/terminated/);
    }
  });

  test("it is terminated by its owner directly (worker.terminate()): the exit event ends them", async () => {
    const { worker, pending } = await hanging(3);
    await worker.terminate();
    for (const e of await Promise.all(pending)) expect(e).toBeInstanceOf(SessionAbortError);
  });

  test("the worker's psession lets go (handle.close() there): the parent's sessions end at once", async () => {
    const { manager: m, pending } = await hanging(2);
    const closing = m.request({ op: "close-psession" }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    for (const e of await Promise.all([...pending, closing])) {
      expect(e).toBeInstanceOf(SessionAbortError);
      expect((e.cause as Error).message).toMatch(/peer closed psession/);
    }
  });

  test("a worker stuck in a loop: the heartbeat ends its sessions after its timeout", async () => {
    const { manager: m, errors, pending } = await hanging(2, { heartbeat: { interval: 200, timeout: 400 } });
    // Healthy while idle: pings are answered.
    await new Promise((r) => setTimeout(r, 900));
    expect(m.ports.get("default")!.attached).toBe(true);
    expect(errors).toEqual([]);
    // Stuck for 6 s: the sessions end long before the worker could answer a ping again.
    const busy = m.request({ op: "busy", ms: 6000 }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    const t = Date.now();
    const { errors: ends, ms } = await ended([...pending, busy], t);
    expect(ms).toBeLessThan(5000);
    for (const e of ends) {
      expect(e).toBeInstanceOf(SessionAbortError);
      expect((e.cause as SessionChannelError).code).toBe("HEARTBEAT_TIMEOUT");
    }
    expect(errors.some((e) => e instanceof SessionChannelError && e.code === "HEARTBEAT_TIMEOUT")).toBe(true);
  });

  test("a Node MessagePort whose other end closes ends the sessions on it", async () => {
    const channel = new MessageChannel();
    const worker = await startWorker("responder", { mode: "port", port: channel.port2 }, [channel.port2]);
    const ready = nextMessage(worker, (v) => v.ready === true);
    const { manager: m } = manager();
    attach(m, channel);
    await ready;
    const hung = nextMessage(worker, (v) => v.hanging === 1);
    const pending = m.request({ op: "hang", tag: 1 }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    await hung;
    await worker.terminate(); // its end of the channel closes with it
    const e = await pending;
    expect(e).toBeInstanceOf(SessionAbortError);
    expect((e.cause as Error).message).toMatch(/MessagePort was closed/);
  });

  test("a worker crashing after psession let go of it is reported, not thrown out of the process", async () => {
    const { worker, manager: m, errors, handle } = await hanging(0);
    handle.close();
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage({ crashNow: true });
    await exited;
    expect(m.ports.get("default")!.attached).toBe(false);
    expect(errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/crashed after psession let go of it: late boom/),
    );
  });
});
