// Issue 8 item 6 over a real WebSocket, the server in its own process: a client sends 50,000
// requests that each get a 2 KB answer and never reads. The server must stop reading from it once
// its queue toward it passes the high-water mark (1 MiB), keep its memory bounded, keep answering
// another client, and disconnect the stuck one after backpressureTimeout.
import type net from "node:net";
import { afterEach, expect, test } from "vitest";
import { MiB, startServer } from "./hostile-process.js";
import { clientFrame, rawUpgrade, serverFrames } from "./raw-client.js";

const REQUESTS = 50_000;
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function connect(port: number): Promise<net.Socket> {
  const socket = await rawUpgrade(port);
  sockets.push(socket);
  return socket;
}

/** Sequential requests on a raw WebSocket; resolves with the answers. */
function ask(socket: net.Socket, count: number): Promise<{ ok: number }[]> {
  const answers: { ok: number }[] = [];
  let rest: Buffer = Buffer.alloc(0);
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      const frames: { opcode: number; payload: Buffer }[] = [];
      rest = serverFrames(Buffer.concat([rest, chunk]), frames);
      for (const frame of frames) {
        answers.push(JSON.parse(frame.payload.toString()));
        if (answers.length === count) {
          socket.off("data", onData);
          return resolve(answers);
        }
        socket.write(clientFrame(JSON.stringify({ sid: 1, n: answers.length })));
      }
    };
    socket.on("data", onData);
    socket.resume();
    socket.write(clientFrame(JSON.stringify({ sid: 1, n: 0 })));
  });
}

test("a client that sends 50,000 requests (2 KB answers) and never reads: bounded memory, others served, disconnected after backpressureTimeout", async () => {
  const server = await startServer({ pad: 2048, backpressureTimeout: 3000 });
  const before = await server.memory();
  const stuck = await connect(server.port);
  stuck.pause(); // reads nothing, ever
  const frames: Buffer[] = [];
  for (let n = 0; n < REQUESTS; n++) frames.push(clientFrame(JSON.stringify({ sid: (n % 32_768) * 2 + 1, n })));
  stuck.write(Buffer.concat(frames));

  // The server answers until its queue toward the stuck client passes the mark, then stops reading.
  let handled = -1;
  for (let i = 0, still = 0; i < 200 && still < 3; i++) {
    await sleep(50);
    const now = (await server.stats()).handled;
    still = now === handled ? still + 1 : 0; // unchanged for 150 ms: it stopped reading
    handled = now;
  }
  expect(handled).toBeGreaterThan(0);
  expect(handled).toBeLessThan(REQUESTS);
  const blocked = await server.memory();

  // Meanwhile another client is served.
  const good = await connect(server.port);
  const answers = await ask(good, 100);
  expect(answers.map((a) => a.ok)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  const stats = await server.stats();
  expect(stats.handled).toBe(handled + 100); // nothing more was read from the stuck client

  // Past backpressureTimeout the stuck client is disconnected; the good one stays.
  let after = stats;
  for (let i = 0; i < 200 && after.connections > 1; i++) {
    await sleep(50);
    after = await server.stats();
  }
  expect(after.connections).toBe(1);
  expect(after.errors.BACKPRESSURE).toBe(1);
  const closed = new Promise<void>((resolve) => stuck.once("close", () => resolve()));
  stuck.resume();
  await closed;
  expect(await ask(good, 1)).toHaveLength(1);

  const grown = (blocked.rss - before.rss) / MiB;
  const heap = (blocked.heapUsed - before.heapUsed) / MiB;
  console.log(
    `[ws] stuck client: ${handled} of ${REQUESTS} requests answered before the server stopped reading; server RSS +${grown.toFixed(1)} MiB, heap +${heap.toFixed(1)} MiB (answering all would queue ${Math.round((REQUESTS * 2.1) / 1024)} MiB)`,
  );
  // Answering everything would queue about 100 MiB; what is held is the mark (1 MiB) plus change.
  expect(grown).toBeLessThan(48);
  expect(heap).toBeLessThan(16);
  await sleep(100);
  expect(await Promise.race([server.exited, sleep(10).then(() => "alive")])).toBe("alive");
}, 60_000);
