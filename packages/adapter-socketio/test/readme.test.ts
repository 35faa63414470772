// Every ```ts block of the README, run as written: each block is its own module (only an export
// line is appended, so that the test can close what the block opened), against real servers on
// 127.0.0.1 and, for the cluster block, a private redis-server.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SessionManager } from "psession";
import type { Server } from "socket.io";
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, test, vi } from "vitest";
import { until } from "./helpers.js";
import { redisMissing, startRedis, type PrivateRedis } from "./redis.js";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

interface Exported {
  httpServer?: HttpServer;
  io?: Server;
  manager?: SessionManager;
  socket?: Socket;
  pubClient?: { quit(): Promise<unknown> };
  subClient?: { quit(): Promise<unknown> };
  turnOn?: (lamp: string) => Promise<string>;
}

const dir = join(here, `.readme-run-${process.pid}`);
const opened: Exported[] = [];
let redis: PrivateRedis | undefined;

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const o of opened.splice(0).reverse()) {
    o.socket?.disconnect();
    o.manager?.clear();
    if (o.io) await new Promise<void>((resolve) => o.io!.close(() => resolve()));
    await Promise.allSettled([o.pubClient?.quit(), o.subClient?.quit()]);
  }
  await redis?.stop();
  redis = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs README block `index` as a module; resolves once its top level is done. */
async function run(index: number): Promise<Exported> {
  const source = blocks[index]!;
  const names = ["httpServer", "io", "manager", "socket", "pubClient", "subClient"].filter((name) =>
    new RegExp(`^const ${name} = `, "m").test(source),
  );
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `block-${index}-${Math.random().toString(36).slice(2, 8)}.ts`);
  writeFileSync(file, `${source}\nexport { ${names.join(", ")} };\n`);
  const exported = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Exported;
  opened.push(exported);
  return exported;
}

/** Runs a server block on 127.0.0.1, port 0; resolves with it and its URL once it listens. */
async function server(index: number): Promise<Exported & { url: string }> {
  vi.stubEnv("PORT", "0");
  vi.stubEnv("HOST", "127.0.0.1");
  const exported = await run(index);
  await until(() => exported.httpServer!.listening, 5000, "the server to listen");
  return { ...exported, url: `http://127.0.0.1:${(exported.httpServer!.address() as AddressInfo).port}` };
}

describe("README", () => {
  test("has the blocks this test knows: server, client, cluster node", () => {
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/const clients = attach\(manager, io\)/);
    expect(blocks[1]).toMatch(/auth: \{ id: "lamp-1" \}/);
    expect(blocks[2]).toMatch(/cluster: true/);
    expect(readme).not.toMatch(/\]\((?!https:\/\/github\.com\/psession\/psession\/blob\/main\/)[^)]*\)/);
  });

  test("the server and the lamp, as written: each opens a session with the other; the app's own event arrives", async () => {
    const backend = await server(0);
    const logs: string[] = [];
    backend.io!.on("connection", (s) => s.on("log", (line: string) => void logs.push(line)));
    vi.stubEnv("SERVER_URL", backend.url);
    await run(1); // connects, asks the time, logs
    expect(await backend.turnOn!("lamp-1")).toBe("on");
    await until(() => logs.length === 1);
    expect(logs[0]).toMatch(/^lamp-1 up at \d{4}-\d\d-\d\dT/);
  });

  test.skipIf(redisMissing !== undefined)(
    "two cluster nodes, as written: each turns on the lamp connected to the other",
    async () => {
      redis = await startRedis();
      vi.stubEnv("REDIS_URL", `redis://127.0.0.1:${redis.port}`);
      const nodes = [await server(2), await server(2)];
      for (const node of nodes) {
        const adapter = node.io!.of("/").adapter as unknown as { serverCount(): Promise<number> };
        const end = Date.now() + 10_000;
        while ((await adapter.serverCount()) < 2) {
          if (Date.now() > end) throw new Error("the nodes did not see each other through Redis");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      vi.stubEnv("SERVER_URL", nodes[1]!.url);
      await run(1); // the lamp, connected to the second node
      expect(await nodes[0]!.turnOn!("lamp-1")).toBe("on");
      expect(await nodes[1]!.turnOn!("lamp-1")).toBe("on");
    },
  );
});
