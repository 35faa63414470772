// Zero-copy sends: `send(message, { transfer })` (and transfer() for a handler's answer), a 64 MiB
// ArrayBuffer to a real worker thread and back, detached on the sender; a transferred send is never
// posted twice; a DataCloneError fails that one send.
import { attach, transfer } from "@psession/worker";
import { SessionRemoteError, SessionSendError } from "psession";
import { describe, expect, test } from "vitest";
import { manager, nextMessage, startWorker } from "./helpers.js";

const MiB = 1024 * 1024;

async function connected() {
  const worker = await startWorker("responder");
  const ready = nextMessage(worker, (m) => m.ready === true);
  const { manager: m, errors } = manager();
  const handle = attach(m, worker);
  await ready;
  return { worker, manager: m, errors, handle };
}

describe("transferables", () => {
  test("a 64 MiB ArrayBuffer goes to the worker and comes back transferred, detached on each sender", async () => {
    const { manager: m, errors } = await connected();
    const buffer = new ArrayBuffer(64 * MiB);
    const view = new Uint8Array(buffer);
    view[0] = 7;
    view[view.length - 1] = 9;
    const reply = await m.request({ op: "buffer", back: "transfer", buffer }, { transfer: [buffer] });
    expect(buffer.byteLength).toBe(0); // detached here: it was moved, not copied
    expect(reply).toMatchObject({ size: 64 * MiB, first: 7, last: 9 });
    expect(reply.buffer).toBeInstanceOf(ArrayBuffer);
    expect(reply.buffer.byteLength).toBe(64 * MiB);
    expect(new Uint8Array(reply.buffer)[64 * MiB - 1]).toBe(9);
    expect(errors).toEqual([]);
  });

  test("a handler answers with session.post(answer, { transfer }): moved back, detached in the worker", async () => {
    const { manager: m, worker, errors } = await connected();
    const detached = nextMessage(worker, (v) => v.detachedInWorker !== undefined);
    const reply = await m.request({ op: "buffer-post", buffer: new ArrayBuffer(MiB) });
    expect(reply.size).toBe(MiB);
    expect(reply.buffer.byteLength).toBe(MiB);
    expect(await detached).toMatchObject({ detachedInWorker: 0 });
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]); // no second answer arrived as a late reply
  });

  test("without transfer() the buffer is copied and stays usable", async () => {
    const { manager: m } = await connected();
    const buffer = new ArrayBuffer(MiB);
    const reply = await m.request({ op: "buffer", buffer });
    expect(buffer.byteLength).toBe(MiB);
    expect(reply.size).toBe(MiB);
  });

  test("transfer() marks a message instead: the list never reaches the peer", async () => {
    const { manager: m } = await connected();
    const buffer = new ArrayBuffer(16);
    const reply = await m.request(transfer({ op: "echo", value: { buffer } }, [buffer]));
    expect(buffer.byteLength).toBe(0);
    expect(Object.getOwnPropertySymbols(reply)).toEqual([]);
    expect(reply.echo.buffer.byteLength).toBe(16);
  });

  test("a send with { transfer } is never retried: one attempt, then its timeout", async () => {
    const { manager: m, worker } = await connected();
    const buffer = new ArrayBuffer(1024);
    let attempts = 0;
    const counting = (v: unknown) => {
      if ((v as { hanging?: string }).hanging === "once") attempts++;
    };
    worker.on("message", counting);
    const failure = await m
      .request({ op: "hang", tag: "once", buffer }, { transfer: [buffer], timeout: 100, retryCount: 3 })
      .catch((e: unknown) => e as Error);
    worker.off("message", counting);
    expect(failure.name).toBe("SessionTimeoutError");
    expect(attempts).toBe(1);
  });

  test("a message marked with transfer() is not posted again on retry: the retry fails with SessionSendError", async () => {
    const { manager: m, worker } = await connected();
    const buffer = new ArrayBuffer(1024);
    const hung = nextMessage(worker, (v) => v.hanging === "t");
    const failure = await m
      .request(transfer({ op: "hang", tag: "t", buffer }, [buffer]), { timeout: 100, retryCount: 2 })
      .catch((e: unknown) => e as Error);
    await hung;
    expect(failure).toBeInstanceOf(SessionSendError);
    expect(failure.message).toMatch(/transferred its buffers .* cannot be sent again/);
  });

  test("a DataCloneError fails that one send at once; the channel goes on", async () => {
    const { manager: m, errors } = await connected();
    const t = Date.now();
    const failure = await m
      .request({ op: "echo", value: () => 1 }, { timeout: 30_000 })
      .catch((e: unknown) => e as Error);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(failure).toBeInstanceOf(SessionSendError);
    expect((failure.cause as Error).name).toBe("DataCloneError");
    // A buffer listed twice is one too.
    const twice = new ArrayBuffer(8);
    const duplicate = await m
      .request(transfer({ op: "echo", twice }, [twice, twice]))
      .catch((e: unknown) => e as Error);
    expect(duplicate).toBeInstanceOf(SessionSendError);
    expect((duplicate.cause as Error).name).toBe("DataCloneError");
    expect(twice.byteLength).toBe(8); // nothing left
    // A detached buffer in the message (moved elsewhere before) is one too.
    const gone = new ArrayBuffer(8);
    structuredClone(gone, { transfer: [gone] });
    const detached = await m.request({ op: "echo", gone }).catch((e: unknown) => e as Error);
    expect(detached).toBeInstanceOf(SessionSendError);
    expect((detached.cause as Error).name).toBe("DataCloneError");
    expect(await m.request({ op: "echo", value: 1 })).toMatchObject({ echo: 1 });
    expect(errors).toEqual([]);
  });

  test("an answer that cannot be cloned fails the initiator at once with a remote error", async () => {
    const { manager: m } = await connected();
    // The parent answers the worker's session with a function: the worker's request fails at once.
    m.handle(() => ({ value: () => 1 }));
    const failure = await m
      .request({ op: "ask-parent", value: 1 }, { timeout: 30_000 })
      .catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(SessionRemoteError);
    expect((failure as SessionRemoteError).remote.name).toBe("SessionRemoteError");
    expect(failure.message).toMatch(/answer could not be sent/);
  });
});
