// A page-like parent and a real worker_threads Worker: both directions, dialogues, progress, cancel,
// errors, roles, and messages that are not psession's passing by untouched.
import { MessageChannel } from "node:worker_threads";
import { attach } from "@psession/worker";
import { SessionAbortError, SessionInvalidError, SessionRemoteError } from "psession";
import { describe, expect, test } from "vitest";
import { manager, nextMessage, startWorker, until } from "./helpers.js";

async function connected(options: Record<string, unknown> = {}) {
  const worker = await startWorker("responder", { options });
  const ready = nextMessage(worker, (m) => m.ready === true);
  const { manager: m, errors } = manager();
  const handle = attach(m, worker, options);
  await ready;
  return { worker, manager: m, errors, handle };
}

describe("parent ↔ worker_threads Worker", () => {
  test("one request, one reply; roles without asking: the creator is the client", async () => {
    const { manager: m, handle, errors } = await connected();
    expect(handle.role).toBe("client");
    expect(await m.request({ op: "echo", value: 42 })).toMatchObject({ echo: 42, sid: 1 });
    expect(await m.request({ op: "role" })).toMatchObject({ role: "server", portRole: "server" });
    expect(errors).toEqual([]);
  });

  test("a multi-turn dialogue, and the worker opening sessions toward the parent on the same channel", async () => {
    const { manager: m, errors } = await connected();
    m.handle((message) => ({ parentSaw: message.value }));
    const session = m.createSession();
    expect(await session.send({ op: "dialogue" })).toMatchObject({ status: "needPassword" });
    expect(await session.send({ password: "123456" })).toMatchObject({ status: "ok" });
    session.end();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => m.request({ op: "ask-parent", value: i })));
    for (const [i, r] of replies.entries()) expect(r.viaParent).toMatchObject({ parentSaw: i });
    expect(errors).toEqual([]);
  });

  test("progress reaches onProgress before the answer", async () => {
    const { manager: m } = await connected();
    const steps: number[] = [];
    const reply = await m.request({ op: "progress" }, { onProgress: (p) => void steps.push(p.step) });
    expect(steps).toEqual([1, 2, 3]);
    expect(reply).toMatchObject({ done: true });
  });

  test("a cancel reaches the worker's handler as session.signal", async () => {
    const { worker, manager: m } = await connected();
    const controller = new AbortController();
    const cancelled = nextMessage(worker, (v) => v.cancelled === "c1");
    const pending = m.request({ op: "wait-cancel", tag: "c1" }, { signal: controller.signal }).catch((e: unknown) => e);
    await nextMessage(worker, () => true, 200).catch(() => undefined);
    controller.abort();
    expect(((await pending) as Error).name).toBe("SessionAbortError");
    expect(await cancelled).toMatchObject({ cancelled: "c1", reason: "SessionCancelError" });
  });

  test("a handler's error crosses with its name, message, code and data", async () => {
    const { manager: m } = await connected();
    const failure = (await m.request({ op: "fail" }).catch((e: unknown) => e)) as SessionRemoteError;
    expect(failure).toBeInstanceOf(SessionRemoteError);
    expect(failure.message).toBe("light is broken");
    expect(failure.code).toBe("E_BROKEN");
    expect(failure.remote).toEqual({
      name: "TypeError",
      message: "light is broken",
      code: "E_BROKEN",
      data: { bulb: 3, tried: ["on", "off"] },
    });
  });

  test("messages that are not psession's pass by untouched, and are not reported when nobody asks for them", async () => {
    const { worker, manager: m, errors } = await connected();
    const seen = nextMessage(worker, (v) => v.plain === "hello");
    await m.request({ op: "plain", value: "hello" });
    expect(await seen).toEqual({ fromWorker: true, plain: "hello" });
    expect(errors).toEqual([]);
    // With a "message" listener the manager hands them over too.
    const viaManager: unknown[] = [];
    m.on("message", (message) => void viaManager.push(message));
    await m.request({ op: "plain", value: "again" });
    await until(() => viaManager.length > 0);
    expect(viaManager).toContainEqual({ fromWorker: true, plain: "again" });
  });

  test("one channel, one attach: attaching the same worker twice is refused", async () => {
    const { worker } = await connected();
    const { manager: other } = manager();
    expect(() => attach(other, worker)).toThrow(SessionInvalidError);
  });

  test("a MessageChannel: its creator passes it whole (client), the worker attaches the port it is handed (server)", async () => {
    const channel = new MessageChannel();
    const worker = await startWorker("responder", { mode: "port", port: channel.port2 }, [channel.port2]);
    const ready = nextMessage(worker, (v) => v.ready === true);
    const { manager: m, errors } = manager();
    const handle = attach(m, channel);
    expect(handle.role).toBe("client");
    await ready;
    expect(await m.request({ op: "role" })).toMatchObject({ role: "server" });
    expect(await m.request({ op: "echo", value: "over a port" })).toMatchObject({ echo: "over a port" });
    expect(errors).toEqual([]);
  });

  test("close() from the owner lets go of the port: no listener is left on it", async () => {
    const channel = new MessageChannel();
    const { manager: m } = manager();
    const handle = attach(m, channel, { port: "w" });
    const port1 = channel.port1 as unknown as { listenerCount(e: string): number };
    expect(port1.listenerCount("message")).toBe(1);
    handle.close();
    expect(handle.port.destroyed).toBe(true);
    expect(m.ports.has("w")).toBe(false);
    expect(port1.listenerCount("message")).toBe(0);
    channel.port1.close();
  });
});

describe("what attach() refuses, and what crosses", () => {
  test("an object that is no endpoint, and bad options, throw at attach(); nothing is left attached", async () => {
    const { manager: m } = manager();
    expect(() => attach(m, {} as never)).toThrow(/does not know this endpoint/);
    expect(() => attach(m, null as never)).toThrow(TypeError);
    const channel = new MessageChannel();
    expect(() => attach(m, channel, { heartbeat: { interval: -1 } })).toThrow(RangeError);
    expect(() => attach(m, channel, { allowedOrigins: [] })).toThrow(/allowedOrigins/);
    // The refused attaches left the channel free.
    const handle = attach(m, channel);
    expect(handle.port.attached).toBe(true);
    handle.close();
    channel.port1.close();
  });

  test("a worker that has already exited: the port is ended at once", async () => {
    const worker = await startWorker("responder");
    await worker.terminate();
    const { manager: m } = manager();
    const handle = attach(m, worker, { port: "gone" });
    const failure = await m.request("gone", { op: "echo" }).catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(SessionAbortError);
    expect((failure.cause as Error).message).toBe("the worker had already exited");
    await until(() => handle.port.destroyed);
  });

  test("an error's data is structured-cloned: dates, maps and typed arrays arrive as themselves", async () => {
    const { manager: m } = await connected();
    const failure = (await m.request({ op: "fail-rich" }).catch((e: unknown) => e)) as SessionRemoteError;
    expect(failure).toBeInstanceOf(SessionRemoteError);
    expect(failure.remote.name).toBe("Error");
    const data = failure.remote.data as { at: Date; readings: Map<string, number>; raw: Uint8Array };
    expect(data.at).toBeInstanceOf(Date);
    expect(data.at.getTime()).toBe(0);
    expect(data.readings).toBeInstanceOf(Map);
    expect(data.readings.get("t")).toBe(21.5);
    expect(data.raw).toBeInstanceOf(Uint8Array);
    expect([...data.raw]).toEqual([1, 2]);
  });

  // Comlink #594: the cause crosses as a SessionRemoteError of its own.
  test("an error's cause crosses too", async () => {
    const { manager: m } = await connected();
    const failure = (await m.request({ op: "fail-cause" }).catch((e: unknown) => e)) as SessionRemoteError;
    expect(failure.message).toBe("could not save");
    expect((failure.cause as Error | undefined)?.message).toBe("disk is read-only");
  });
});
