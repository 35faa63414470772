// Two (and for the slow-node case three) Socket.IO server processes behind the Redis adapter, a
// private redis-server, and real clients in this process.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { attach } from "@psession/socketio";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { client, manager, teardown, whenConnected } from "./helpers.js";
import { type PrivateRedis, redisMissing, startRedis } from "./redis.js";

const fixture = fileURLToPath(new URL("./fixtures/cluster-node.ts", import.meta.url));
const tsconfig = fileURLToPath(new URL("../../../tsconfig.json", import.meta.url));

interface Node {
  nodeId: string;
  url: string;
  child: ChildProcess;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
}

const children = new Set<ChildProcess>();

async function startNode(nodeId: string, redisPort: number): Promise<Node> {
  const child = fork(fixture, [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      NODE_ID: nodeId,
      REDIS_PORT: String(redisPort),
      RELAY_IDLE: "300",
      TSX_TSCONFIG_PATH: tsconfig,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  const listening = new Promise<{ port: number }>((resolve, reject) => {
    pending.set(0, { resolve: resolve as (v: unknown) => void, reject });
    child.once("exit", (code) => reject(new Error(`node ${nodeId} exited (${code})`)));
  });
  child.on("message", (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  const { port } = await listening;
  return {
    nodeId,
    url: `http://127.0.0.1:${port}`,
    child,
    call<T>(cmd: string, args: Record<string, unknown> = {}) {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, cmd, ...args });
      });
    },
  };
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return;
  node.child.kill("SIGCONT");
  await Promise.race([node.call("close"), new Promise((resolve) => setTimeout(resolve, 3000))]);
  const exited = new Promise((resolve) => node.child.once("exit", resolve));
  node.child.kill("SIGKILL");
  await exited;
}

/** The client side of the password dialogue, on every port the client has. */
function answering(name: string) {
  const { manager: m, errors } = manager();
  m.handle(async (message, session) => {
    if (message.command === "hang") return new Promise(() => {});
    const answer = await session.send({ status: "needPassword", port: session.port });
    return { status: answer.password === "123456" ? "ok" : "denied", by: name };
  });
  return { manager: m, errors };
}

describe.skipIf(redisMissing !== undefined)("a cluster of Socket.IO nodes behind the Redis adapter", () => {
  let redis: PrivateRedis;
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([startNode("node-a", redis.port), startNode("node-b", redis.port)]);
    for (const node of [a, b]) {
      const end = Date.now() + 10_000;
      while ((await node.call<number>("serverCount")) < 2) {
        if (Date.now() > end) throw new Error("the nodes did not see each other through Redis");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }, 60_000);

  afterEach(teardown);

  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map(stopNode));
    await redis?.stop();
  });

  const connectTo = async (
    node: Node,
    id: string,
  ): Promise<{ socket: Socket; errors: Error[]; port: ReturnType<typeof attach> }> => {
    const { manager: m, errors } = answering(id);
    const socket = client(node.url, { transports: ["websocket"], auth: { id } });
    const port = attach(m, socket);
    await whenConnected(socket);
    return { socket, errors, port };
  };

  test("node A opens a dialogue with a client connected to node B, by its port name; the answers route back to A", async () => {
    const alice = await connectTo(b, "alice");
    expect(await b.call<string[]>("ports")).toEqual(["alice"]);
    expect(await a.call<string[]>("ports")).toEqual([]);
    const viaA = await a.call<{ first: { status: string; port: string }; second: { status: string } }>("dialogue", {
      port: "alice",
    });
    expect(viaA.first).toMatchObject({ status: "needPassword", port: "default@node-a" });
    expect(viaA.second).toMatchObject({ status: "ok", by: "alice" });
    // B, where alice is connected, talks to her on her own port; her sessions with B are untouched.
    const viaB = await b.call<typeof viaA>("dialogue", { port: "alice" });
    expect(viaB.first).toMatchObject({ status: "needPassword", port: "default" });
    expect(await alice.port.request({ n: 1 })).toMatchObject({ node: "node-b", echo: 1 });
    expect(alice.errors).toEqual([]);
    expect(await a.call("errors")).toEqual([]);
    expect(await b.call("errors")).toEqual([]);
  });

  test("both nodes at once, many dialogues each, with two clients on different nodes: every one completes", async () => {
    const alice = await connectTo(b, "alice");
    const bob = await connectTo(a, "bob");
    const done = await Promise.all([
      a.call<number>("dialogues", { port: "alice", count: 100 }),
      b.call<number>("dialogues", { port: "alice", count: 100 }),
      a.call<number>("dialogues", { port: "bob", count: 100 }),
      b.call<number>("dialogues", { port: "bob", count: 100 }),
    ]);
    expect(done).toEqual([100, 100, 100, 100]);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    expect(await a.call("errors")).toEqual([]);
    expect(await b.call("errors")).toEqual([]);
  });

  test("the client disconnects from B: A's pending sessions with it fail at once (SessionAbortError)", async () => {
    const alice = await connectTo(b, "alice");
    const hanging = a.call<{ error: string; ms: number }>("hanging", { port: "alice" });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request reached alice
    alice.socket.disconnect();
    const result = await hanging;
    expect(result.error).toBe("SessionAbortError");
    expect(result.ms).toBeLessThan(3000);
  });

  test("malformed messages on the relay channel are reported by the receiving node, never thrown; it keeps working", async () => {
    const alice = await connectTo(b, "alice");
    await b.call("errors"); // start from none
    await a.call("junk");
    const end = Date.now() + 3000;
    let reported: string[] = [];
    while (reported.length < 3) {
      if (Date.now() > end) throw new Error(`B reported ${JSON.stringify(reported)}`);
      reported = [...reported, ...(await b.call<string[]>("errors"))];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Three of unknown shape; the well-formed frame for a relay B never made is dropped quietly.
    expect(reported).toEqual(
      Array.from({ length: 3 }, () => expect.stringMatching(/cluster message of unknown shape/)),
    );
    expect((await b.call<{ second: { status: string } }>("dialogue", { port: "alice" })).second.status).toBe("ok");
    expect((await a.call<{ second: { status: string } }>("dialogue", { port: "alice" })).second.status).toBe("ok");
    expect(alice.errors).toEqual([]);
  });

  test("a name no node holds: the session ends by its timeout, nothing hangs; the idle relay is dropped", async () => {
    const result = await a.call<{ error: string }>("hanging", { port: "nobody", timeout: 300 });
    expect(result.error).toBe("SessionTimeoutError");
    expect(await a.call<string[]>("managerPorts")).toContain("nobody");
    const end = Date.now() + 3000; // relayIdle is 300 ms in these nodes: gone within two sweeps
    while ((await a.call<string[]>("managerPorts")).includes("nobody")) {
      if (Date.now() > end) throw new Error("the idle relay was not dropped");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test("a client that reconnects to the other node is reached there; the old node closes any connection left under its name", async () => {
    const first = await connectTo(b, "carol");
    expect((await a.call<{ second: { status: string } }>("dialogue", { port: "carol" })).second.status).toBe("ok");
    // carol now also connects to A (a new process, say): B's connection is closed as superseded.
    const closed = new Promise<string>((resolve) => first.socket.once("disconnect", resolve));
    await connectTo(a, "carol");
    expect(await closed).toBe("io server disconnect");
    expect((await a.call<{ first: { port: string } }>("dialogue", { port: "carol" })).first.port).toBe("default");
    expect((await b.call<{ first: { port: string } }>("dialogue", { port: "carol" })).first.port).toBe(
      "default@node-b",
    );
    await a.call("errors");
    const bErrors = await b.call<string[]>("errors");
    for (const e of bErrors) expect(e).toMatch(/connected to another node/);
  });

  test("a slow node delays nobody: with a third node stopped (SIGSTOP), A and B still complete their sessions", async () => {
    const c = await startNode("node-c", redis.port);
    try {
      const end = Date.now() + 10_000;
      while ((await a.call<number>("serverCount")) < 3) {
        if (Date.now() > end) throw new Error("node C did not join");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await connectTo(b, "dave");
      c.child.kill("SIGSTOP");
      const started = Date.now();
      const done = await Promise.all([
        a.call<number>("dialogues", { port: "dave", count: 50, timeout: 2000 }),
        b.call<number>("dialogues", { port: "dave", count: 50, timeout: 2000 }),
      ]);
      expect(done).toEqual([50, 50]);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await stopNode(c);
    }
  }, 30_000);
});
