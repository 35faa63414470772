// "Does a retried command run once?" A retryable send carries a mark; the responder answers a
// repeated mark by re-sending its reply instead of running the handler again.
import { afterEach, expect, test } from "vitest";
import { SessionManager, attach, createMemoryTransportPair, type Message, type Transport } from "psession";
import { delay } from "./helpers.js";

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

/** A channel whose server → client direction loses the messages `lose` picks. */
function lossyPair(lose: (message: Message, index: number) => boolean) {
  const [a, b] = createMemoryTransportPair<Message>();
  let index = 0;
  const lossy: Transport<Message> = {
    send: (m) => (lose(m, index++) ? undefined : b.send(m)),
    onMessage: (l) => b.onMessage(l),
    onClose: (l) => b.onClose(l),
  };
  const client = new SessionManager({ sessionTimeout: 40 });
  const server = new SessionManager({ sessionTimeout: 1000 });
  managers.push(client, server);
  const errors: Error[] = [];
  client.on("error", (e) => void errors.push(e));
  server.on("error", (e) => void errors.push(e));
  return {
    client,
    server,
    clientPort: attach(client, a, { role: "client" }),
    errors,
    lossy,
    serverAttach: () => attach(server, lossy, { role: "server" }),
  };
}

test("a lost reply: the retry is answered from the reply cache, the handler runs once", async () => {
  const { server, clientPort, serverAttach } = lossyPair((_, i) => i === 0);
  serverAttach();
  let runs = 0;
  server.handle((m) => ({ done: m.command, run: ++runs }));
  const reply = await clientPort.request({ command: "unlockDoor" }, { retryCount: 3, retryInterval: 5 });
  expect(reply).toMatchObject({ done: "unlockDoor", run: 1 });
  expect(runs).toBe(1);
});

test("a slow handler: retries that arrive while it works are dropped, the handler runs once", async () => {
  const { server, clientPort, serverAttach, errors } = lossyPair(() => false);
  serverAttach();
  let runs = 0;
  server.handle(async () => {
    runs++;
    await delay(150); // several client timeouts (40 ms) pass meanwhile
    return { ok: true };
  });
  const reply = await clientPort.request({ command: "brew" }, { retryCount: 10, retryInterval: 5 });
  expect(reply).toMatchObject({ ok: true });
  expect(runs).toBe(1);
  expect(errors).toEqual([]);
});

test("multi-turn: the reply to the password turn is lost; the retried turn is answered once", async () => {
  const { server, client, clientPort, serverAttach } = lossyPair(
    (m) => m.status === "ok" && !("seen" in lost) && (lost.seen = true),
  );
  const lost: { seen?: boolean } = {};
  serverAttach();
  let passwordsChecked = 0;
  server.handle(async (request, session) => {
    const answer = await session.send({ status: "needPassword" });
    passwordsChecked++;
    return { status: answer.password === "123456" ? "ok" : "denied", for: request.command };
  });
  const session = client.createSession(clientPort.name);
  expect((await session.send({ command: "turnOnLight" }, { retryCount: 3 })).status).toBe("needPassword");
  const result = await session.send({ password: "123456" }, { retryCount: 3, retryInterval: 5 });
  expect(result).toMatchObject({ status: "ok", for: "turnOnLight" });
  expect(lost.seen).toBe(true);
  expect(passwordsChecked).toBe(1);
  session.end();
});

test("a new session that reuses a sid is not mistaken for a retry", async () => {
  const { server, clientPort, serverAttach } = lossyPair(() => false);
  serverAttach();
  let runs = 0;
  server.handle((m) => ({ n: m.n, run: ++runs }));
  clientPort.maxSessionCount = 1; // every session gets sid 1
  for (let n = 0; n < 5; n++) {
    expect(await clientPort.request({ n }, { retryCount: 2 })).toMatchObject({ n, run: n + 1 });
  }
});

test("the responder's retry crosses the opener's next turn: the opener repeats that turn, the handler still runs once", async () => {
  // Both directions take 20 ms. The handler's question is re-sent (30 ms timeout) while the
  // opener's answer to it is on the wire; the opener answers the re-send by repeating its latest
  // turn (its answer might have been lost), so that turn reaches the handler's end twice, the
  // second time after the session ended there. Found by the Socket.IO reconnect case in CI.
  const [a, b] = createMemoryTransportPair<Message>();
  const slow = (end: Transport<Message>): Transport<Message> => ({
    role: end.role,
    send: (m) => void setTimeout(() => end.send(m), 20),
    onMessage: (l) => end.onMessage(l),
    onClose: (l) => end.onClose!(l),
  });
  const client = new SessionManager();
  const server = new SessionManager();
  managers.push(client, server);
  const errors: Error[] = [];
  client.on("error", (e) => void errors.push(e));
  server.on("error", (e) => void errors.push(e));
  const clientPort = attach(client, slow(a));
  attach(server, slow(b));
  let runs = 0;
  server.handle(async (m, session) => {
    runs++;
    const second = await session.send({ step: 1 }, { timeout: 30, retryCount: 3 });
    return { step: 2, total: m.base + second.add };
  });
  const session = client.createSession(clientPort.name);
  expect(await session.send({ base: 40 })).toMatchObject({ step: 1 });
  expect(await session.send({ add: 2 })).toMatchObject({ step: 2, total: 42 });
  session.end();
  await delay(80); // the repeated turn lands meanwhile
  expect(runs).toBe(1);
  expect(server.stats().duplicates).toBe(1);
  expect(errors).toEqual([]);
});
