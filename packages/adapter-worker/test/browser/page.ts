// Runs in Chromium: each scenario of browser.test.ts, returning what it saw as plain JSON.
import { attach } from "@psession/worker";
import * as Comlink from "comlink";
import {
  SessionAbortError,
  type SessionChannelError,
  SessionManager,
  SessionRemoteError,
  type Session,
} from "psession";

type Scenario = (arg: Record<string, string>) => Promise<unknown>;
declare global {
  interface Window {
    scenarios: Record<string, Scenario>;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newManager() {
  const manager = new SessionManager({ sessionTimeout: 10_000 });
  const errors: string[] = [];
  manager.on(
    "error",
    (e) =>
      void errors.push(
        `${e.name}${(e as { code?: string }).code ? `(${(e as { code?: string }).code})` : ""}: ${e.message}`,
      ),
  );
  return { manager, errors };
}

function ready(
  target: { addEventListener: Worker["addEventListener"]; removeEventListener: Worker["removeEventListener"] },
  key: string,
) {
  return new Promise<unknown>((resolve) => {
    const listener = (event: MessageEvent) => {
      if (event.data && event.data[key] !== undefined) {
        target.removeEventListener("message", listener as never);
        resolve(event.data[key]);
      }
    };
    target.addEventListener("message", listener as never);
  });
}

/** What a rejected send ended with, as text: name, cause code and time. */
async function outcome(pending: Promise<unknown>, since = performance.now()) {
  try {
    return { resolved: await pending };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    return {
      name: e.name,
      abort: e instanceof SessionAbortError,
      causeCode: (e.cause as SessionChannelError | undefined)?.code,
      cause: e.cause?.message,
      message: e.message,
      ms: Math.round(performance.now() - since),
    };
  }
}

const startWorker = async (url: string) => {
  const worker = new Worker(url, { type: "module", name: "responder" });
  const isReady = ready(worker, "ready");
  return { worker, isReady };
};

window.scenarios = {
  async worker({ workerUrl }) {
    const { worker, isReady } = await startWorker(workerUrl!);
    const { manager, errors } = newManager();
    const handle = attach(manager, worker);
    manager.handle((m) => ({ pageSaw: m.value }));
    await isReady;
    const echo = await manager.request({ op: "echo", value: 42 });
    const session: Session = manager.createSession();
    const first = await session.send({ op: "dialogue" });
    const second = await session.send({ password: "123456" });
    session.end();
    const steps: number[] = [];
    const progress = await manager.request({ op: "progress" }, { onProgress: (p) => void steps.push(p.step) });
    const failure = (await manager.request({ op: "fail" }).catch((e: unknown) => e)) as SessionRemoteError;
    const back = await manager.request({ op: "ask-page", value: 7 });
    await handle.terminate();
    return {
      role: handle.role,
      echo,
      first,
      second,
      steps,
      progress,
      failure: {
        isRemote: failure instanceof SessionRemoteError,
        message: failure.message,
        code: failure.code,
        remote: failure.remote,
      },
      back,
      errors,
      live: manager.size,
    };
  },

  async crash({ workerUrl }) {
    const { worker, isReady } = await startWorker(workerUrl!);
    const { manager } = newManager();
    const handle = attach(manager, worker);
    await isReady;
    const pending = [
      manager.request({ op: "hang" }, { timeout: 60_000 }),
      manager.request({ op: "crash" }, { timeout: 60_000 }),
    ];
    const since = performance.now();
    const results = await Promise.all(pending.map((p) => outcome(p, since)));
    await handle.terminate();
    return results;
  },

  async options({ workerUrl }) {
    const { manager } = newManager();
    const refused: string[] = [];
    for (const options of [{}, { targetOrigin: "*" }]) {
      try {
        attach(manager, window.parent, options);
      } catch (error) {
        refused.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    // closeOnError: false: an uncaught error in the worker is reported and the port stays.
    const { worker, isReady } = await startWorker(workerUrl!);
    const { manager: kept, errors } = newManager();
    const handle = attach(kept, worker, { closeOnError: false });
    await isReady;
    const crashed = await outcome(kept.request({ op: "crash" }, { timeout: 500 }));
    const after = await kept.request({ op: "echo", value: "still here" });
    await handle.terminate();
    return { refused, crashed, after, errors, attachedAfter: handle.port.attached };
  },

  async terminate({ workerUrl }) {
    const { worker, isReady } = await startWorker(workerUrl!);
    const { manager } = newManager();
    const handle = attach(manager, worker);
    await isReady;
    const pending = [1, 2, 3].map(() => manager.request({ op: "hang" }, { timeout: 60_000 }));
    await sleep(50);
    const since = performance.now();
    void handle.terminate();
    return Promise.all(pending.map((p) => outcome(p, since)));
  },

  async transfer({ workerUrl }) {
    const { worker, isReady } = await startWorker(workerUrl!);
    const { manager, errors } = newManager();
    const handle = attach(manager, worker);
    await isReady;
    const buffer = new ArrayBuffer(64 * 1024 * 1024);
    const view = new Uint8Array(buffer);
    view[0] = 7;
    view[view.length - 1] = 9;
    const pending = manager.request({ op: "buffer", buffer }, { transfer: [buffer] });
    const detachedAfterSend = buffer.byteLength;
    const reply = await pending;
    const result = {
      detachedAfterSend,
      size: reply.size,
      first: reply.first,
      last: reply.last,
      backIsBuffer: reply.buffer instanceof ArrayBuffer,
      backLength: reply.buffer.byteLength,
      errors,
    };
    await handle.terminate();
    return result;
  },

  async comlink({ workerUrl }) {
    const { worker, isReady } = await startWorker(workerUrl!);
    const api = Comlink.wrap<{ add(a: number, b: number): number; connect(port: MessagePort): string }>(worker);
    const { manager, errors } = newManager();
    const handle = attach(manager, worker);
    await isReady;
    const [sums, echoes] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => api.add(i, 1))),
      Promise.all(Array.from({ length: 20 }, (_, i) => manager.request({ op: "echo", value: i }))),
    ]);
    // A MessageChannel handed over through Comlink.
    const { manager: second, errors: secondErrors } = newManager();
    const channel = new MessageChannel();
    const channelHandle = attach(second, channel);
    const connected = await api.connect(Comlink.transfer(channel.port2, [channel.port2]));
    const overChannel = await second.request({ value: "hi" });
    await handle.terminate();
    return {
      sums,
      echoes: echoes.map((e) => e.echo),
      connected,
      overChannel,
      channelRole: channelHandle.role,
      errors,
      secondErrors,
    };
  },

  async portHeartbeat({ workerUrl }) {
    // A MessagePort whose other end dies: Chromium may fire "close"; the heartbeat is the fallback.
    const { worker, isReady } = await startWorker(workerUrl!);
    const api = Comlink.wrap<{ connect(port: MessagePort): string }>(worker);
    await isReady;
    const { manager } = newManager();
    const channel = new MessageChannel();
    attach(manager, channel, { heartbeat: { interval: 100, timeout: 200 } });
    await api.connect(Comlink.transfer(channel.port2, [channel.port2]));
    const ok = await manager.request({ value: 1 });
    const pending = manager.request({ value: 2, neverAnswered: true }, { timeout: 60_000 });
    worker.terminate(); // not through a handle: nothing tells the page but the channel itself
    const since = performance.now();
    return { ok, ended: await outcome(pending, since) };
  },

  async frame({ frameUrl, frameOrigin }) {
    const { manager, errors } = newManager();
    const iframe = document.createElement("iframe");
    iframe.src = frameUrl!;
    const frameReady = new Promise((resolve) => {
      const listener = (event: MessageEvent) => {
        if (event.data?.frameReady) {
          window.removeEventListener("message", listener);
          resolve(event.data.frameReady);
        }
      };
      window.addEventListener("message", listener);
    });
    document.body.append(iframe);
    await frameReady;
    const handle = attach(manager, iframe.contentWindow!, { targetOrigin: frameOrigin!, port: "frame" });
    const reply = await manager.request("frame", { value: 5 });
    // Removed mid-session: the frame is gone, its sessions end.
    const pending = manager.request("frame", { value: 6 }, { timeout: 60_000 });
    iframe.remove();
    const since = performance.now();
    const removed = await outcome(pending, since);
    return { role: handle.role, reply, removed, errors };
  },

  async frameWrongOrigin({ frameUrl, allowedOrigin }) {
    const { manager, errors } = newManager();
    const iframe = document.createElement("iframe");
    iframe.src = frameUrl!;
    const loaded = new Promise((r) => iframe.addEventListener("load", r));
    document.body.append(iframe);
    await loaded;
    await sleep(100);
    // The frame's origin is not the one allowed: its answers are reported and dropped.
    attach(manager, iframe.contentWindow!, { targetOrigin: "*", allowedOrigins: [allowedOrigin!], port: "frame" });
    const seen: unknown[] = [];
    manager.on("message", (m) => void seen.push(m));
    const result = await outcome(manager.request("frame", { value: 5 }, { timeout: 500 }));
    iframe.remove();
    return { result, errors, seen, live: manager.size };
  },

  async shared({ sharedUrl }) {
    const pages = [0, 1].map(() => {
      const { manager, errors } = newManager();
      const worker = new SharedWorker(sharedUrl!, { type: "module", name: "shared" });
      const handle = attach(manager, worker);
      manager.handle((m) => ({ iam: handle.port.name, got: m.op }));
      return { manager, errors, handle };
    });
    const hellos = await Promise.all(pages.map((p) => p.manager.request({ op: "hello" })));
    const count = await pages[0]!.manager.request({ op: "count" });
    // A WebAssembly.Module cannot be deserialized in another agent cluster: a real messageerror there.
    const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const lost = await outcome(pages[0]!.manager.request({ op: "echo", module }, { timeout: 500 }));
    const decodeErrors = await pages[0]!.manager.request({ op: "decode-errors" });
    // A page that lets go tells the SharedWorker (a MessagePort has no close event): its port there ends.
    pages[1]!.handle.close();
    await sleep(50);
    const afterClose = await pages[0]!.manager.request({ op: "count" });
    pages[0]!.handle.close();
    return {
      roles: pages.map((p) => p.handle.role),
      hellos,
      count,
      afterClose,
      lost,
      decodeErrors,
      errors: pages.map((p) => p.errors),
    };
  },

  async broadcast({ workerUrl }) {
    const names = ["w1", "w2"];
    const workers = names.map((n) => new Worker(workerUrl!, { type: "module", name: `bc:${n}` }));
    await Promise.all(workers.map((w) => ready(w, "ready")));
    const { manager, errors } = newManager();
    const channel = new BroadcastChannel("room");
    const handle = attach(manager, channel, { name: "page" });
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        manager.request(names[n % 2]!, { n }).then((r) => [names[n % 2], r.me, r.n, r.from]),
      ),
    );
    const dialogues = await Promise.all(
      names.map(async (to, n) => {
        const session = manager.createSession(to);
        const q = await session.send({ op: "dialogue", n });
        const a = await session.send({ answer: q.question });
        session.end();
        return a;
      }),
    );
    handle.close();
    channel.close();
    for (const w of workers) w.terminate();
    return { replies, dialogues, errors };
  },
};
