// A BroadcastChannel reaches every listener: psession addresses each message ($from, $to), so a
// session pairs one initiator with one responder. Real worker threads, one participant each.
import { attach } from "@psession/worker";
import { SessionAbortError, SessionInvalidError } from "psession";
import { describe, expect, test } from "vitest";
import { manager, nextMessage, onCleanup, sleep, startWorker, until } from "./helpers.js";

let seq = 0;
async function room(names: string[]) {
  const channelName = `room-${process.pid}-${++seq}`;
  const workers = await Promise.all(names.map((name) => startWorker("broadcast-peer", { name, channelName })));
  await Promise.all(workers.map((w, i) => nextMessage(w, (m) => m.ready === names[i])));
  const channel = new BroadcastChannel(channelName);
  onCleanup(() => channel.close());
  const { manager: m, errors } = manager();
  const handle = attach(m, channel, { name: "main" });
  onCleanup(() => handle.close());
  return { channelName, channel, workers, manager: m, errors, handle };
}

describe("BroadcastChannel", () => {
  test("sessions with several participants at once never misroute", async () => {
    const { manager: m, errors, handle } = await room(["w1", "w2", "w3"]);
    const targets = ["w1", "w2", "w3"];
    const replies = await Promise.all(
      Array.from({ length: 150 }, (_, n) => {
        const to = targets[n % 3]!;
        return m.request(to, { op: "who", n }).then((r) => ({ to, r }));
      }),
    );
    // Roles without asking: in each pair the smaller name is the client ("main" < "w1").
    for (const { to, r } of replies) expect(r).toMatchObject({ me: to, from: "main", role: "server" });
    expect(replies.map(({ r }) => r.n)).toEqual(Array.from({ length: 150 }, (_, n) => n));
    expect(handle.peer("w1").role).toBe("client");
    expect(errors).toEqual([]);
    // Each participant served exactly its own sessions.
    for (const to of targets) expect(await m.request(to, { op: "served" })).toMatchObject({ served: 51 });
  });

  test("multi-turn dialogues with two participants, interleaved, and participants talking among themselves", async () => {
    const { manager: m, errors } = await room(["w1", "w2"]);
    m.handle(() => ({}));
    const dialogues = Array.from({ length: 20 }, async (_, n) => {
      const to = n % 2 === 0 ? "w1" : "w2";
      const session = m.createSession(to);
      const first = await session.send({ op: "dialogue", n });
      expect(first.question).toBe(`${to}:${n}`);
      const second = await session.send({ answer: `a${n}` });
      session.end();
      return [to, second];
    });
    const across = Array.from({ length: 10 }, (_, n) => m.request("w1", { op: "ask", peer: "w2", n }));
    for (const [to, second] of await Promise.all(dialogues)) expect(second).toMatchObject({ me: to });
    for (const [n, r] of (await Promise.all(across)).entries())
      expect(r.viaPeer).toMatchObject({ me: "w2", n, from: "w1" });
    expect(errors).toEqual([]);
  });

  test("the application's own broadcasts pass by untouched and are not reported", async () => {
    const { channelName, errors, manager: m } = await room(["w1"]);
    const listener = new BroadcastChannel(channelName);
    onCleanup(() => listener.close());
    const seen: unknown[] = [];
    listener.onmessage = (event) => void seen.push(event.data);
    const other = new BroadcastChannel(channelName);
    onCleanup(() => other.close());
    other.postMessage({ news: "hello everyone" });
    await until(() => seen.some((v) => (v as { news?: string }).news === "hello everyone"));
    await m.request("w1", { op: "who", n: 1 });
    // psession's own messages are visible to other listeners (a broadcast is a broadcast), addressed.
    expect(seen).toContainEqual(expect.objectContaining({ op: "who", $from: "main", $to: "w1" }));
    expect(errors).toEqual([]);
  });

  test("a participant that leaves (handle.close()) ends our pending sessions with it at once", async () => {
    const { manager: m, workers } = await room(["w1", "w2"]);
    const pending = m.request("w1", { op: "hang" }, { timeout: 60_000 }).catch((e: unknown) => e as Error);
    await sleep(50);
    workers[0]!.postMessage("close");
    const e = await pending;
    expect(e).toBeInstanceOf(SessionAbortError);
    expect((e.cause as Error).message).toMatch(/peer closed psession/);
    // The others are unaffected.
    expect(await m.request("w2", { op: "who", n: 2 })).toMatchObject({ me: "w2" });
  });

  test("a message carrying our own name as its sender is reported, not served", async () => {
    const { channelName, errors, manager: m } = await room(["w1"]);
    const impostor = new BroadcastChannel(channelName);
    onCleanup(() => impostor.close());
    impostor.postMessage({ op: "who", sid: 1, $turn: 1, $from: "main", $to: "main" });
    await until(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(SessionInvalidError);
    expect(errors[0]!.message).toMatch(/our own name/);
    expect(m.size).toBe(0);
  });
});
