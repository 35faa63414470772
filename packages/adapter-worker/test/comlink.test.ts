// Comlink and psession side by side on one worker_threads Worker: neither breaks the other.
import { MessageChannel } from "node:worker_threads";
import { attach } from "@psession/worker";
import * as Comlink from "comlink";
import nodeEndpoint from "comlink/dist/umd/node-adapter.js";
import { SessionAbortError } from "psession";
import { describe, expect, test } from "vitest";
import { manager, nextMessage, sleep, startWorker } from "./helpers.js";
import type { Api } from "./workers/comlink-api.js";

async function both() {
  const worker = await startWorker("comlink-api");
  await nextMessage(worker, (m) => m.comlinkReady === true);
  const api = Comlink.wrap<Api>(nodeEndpoint(worker as never));
  const { manager: m, errors } = manager();
  const handle = attach(m, worker);
  return { worker, api, manager: m, errors, handle };
}

describe("Comlink coexistence", () => {
  test("Comlink calls and psession sessions on the same endpoint, interleaved", async () => {
    const { api, manager: m, errors } = await both();
    const comlinkCalls = Array.from({ length: 50 }, (_, i) => api.add(i, 1));
    const sessions = Array.from({ length: 50 }, (_, i) => m.request({ value: i }));
    const steps: number[] = [];
    const counted = m.request({ op: "count", to: 5 }, { onProgress: (p) => void steps.push(p.at) });
    expect(await Promise.all(comlinkCalls)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await Promise.all(sessions)).map((r) => r.doubled)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(await counted).toMatchObject({ counted: 5 });
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    // Comlink's traffic is not psession's: nothing was reported.
    expect(errors).toEqual([]);
  });

  test("a MessageChannel handed over through Comlink carries psession", async () => {
    const { api } = await both();
    const { manager: m, errors } = manager();
    const channel = new MessageChannel();
    const handle = attach(m, channel); // the creator: role "client"
    expect(await api.connect(Comlink.transfer(channel.port2, [channel.port2]) as never)).toBe("connected");
    expect(await m.request({ value: "hi" })).toMatchObject({ overChannel: "hi" });
    expect(handle.role).toBe("client");
    expect(errors).toEqual([]);
  });

  test("the worker is terminated: the Comlink call never settles, the psession session ends at once", async () => {
    const { api, manager: m, handle } = await both();
    let comlinkSettled = false;
    void api.never().then(
      () => (comlinkSettled = true),
      () => (comlinkSettled = true),
    );
    const pending = m.request({ op: "hang" }, { timeout: 60_000 }).catch((e: unknown) => e);
    await sleep(50);
    await handle.terminate();
    expect(await pending).toBeInstanceOf(SessionAbortError);
    await sleep(100);
    expect(comlinkSettled).toBe(false); // Comlink's open issues #601, #655, #692
  });
});
