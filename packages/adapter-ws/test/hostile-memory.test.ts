// Issue 14, memory amplification: 1,000 raw WebSocket connections (the upgrade written by hand)
// that each send 5 bytes, an unfinished frame header announcing a 64 KiB binary frame, to a server
// in its own process. What the server holds must follow what was sent, not what a header
// announced (reserving 1 MiB per connection would be 1,000 MiB).
import type net from "node:net";
import { afterEach, expect, test } from "vitest";
import { MiB, startServer } from "./hostile-process.js";
import { clientFrame, rawUpgrade, serverFrames } from "./raw-client.js";

const CONNECTIONS = 1000;
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** FIN + binary, masked, 16-bit length 65535, then one of the four mask bytes: the frame never comes. */
const FIVE_BYTES = Buffer.from([0x82, 0x80 | 126, 0xff, 0xff, 0x12]);

test("1,000 connections that each send 5 bytes of an unfinished frame cost the server little memory; it still answers", async () => {
  const server = await startServer();
  const before = await server.memory();
  for (let i = 0; i < CONNECTIONS; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => rawUpgrade(server.port)));
    for (const socket of batch) {
      sockets.push(socket);
      socket.write(FIVE_BYTES);
    }
  }
  let stats = await server.stats();
  for (let i = 0; i < 500 && stats.connections < CONNECTIONS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    stats = await server.stats();
  }
  expect(stats.connections).toBe(CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = await server.memory();
  const grown = {
    rss: (after.rss - before.rss) / MiB,
    external: (after.external - before.external) / MiB,
    arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / MiB,
    heapUsed: (after.heapUsed - before.heapUsed) / MiB,
  };
  console.log(
    `[ws] ${CONNECTIONS} connections × 5 bytes: server grew by ${JSON.stringify(grown, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))} MiB`,
  );
  // Bounds with room to spare (measured: under 1 MiB external, about 40 MiB RSS for 1,000
  // upgraded connections); 1 MiB reserved per connection would be 1,000 MiB.
  expect(grown.external).toBeLessThan(32);
  expect(grown.rss).toBeLessThan(200);
  expect(stats.errors).toEqual({});
  // The server still serves a well-behaved client.
  const good = await rawUpgrade(server.port);
  sockets.push(good);
  const frames: { opcode: number; payload: Buffer }[] = [];
  const answered = new Promise<void>((resolve) => {
    let rest: Buffer = Buffer.alloc(0);
    good.on("data", (chunk: Buffer) => {
      rest = serverFrames(Buffer.concat([rest, chunk]), frames);
      if (frames.length > 0) resolve();
    });
    good.resume();
  });
  good.write(clientFrame(JSON.stringify({ sid: 1, n: 7 })));
  await answered;
  expect(JSON.parse(frames[0]!.payload.toString())).toMatchObject({ sid: 1, ok: 7 });
}, 60_000);
