// Issue 14, memory amplification: 1,000 raw TCP connections that each send 5 bytes (a length
// header announcing a 1 MiB frame and one body byte; for NDJSON, 5 bytes of a line that never
// ends) to a server in its own process. What the server holds must follow what was sent, not what
// a header announced: the old decoder reserved the announced 1 MiB per connection (1,000 MiB).
import net from "node:net";
import { afterEach, expect, test } from "vitest";
import { MiB, startServer } from "./hostile-process.js";

const CONNECTIONS = 1000;
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

function fiveBytes(framing: "ndjson" | "length-prefix"): Buffer {
  if (framing === "ndjson") return Buffer.from('{"a":');
  const bytes = Buffer.alloc(5, 0x61);
  bytes.writeUInt32BE(MiB, 0); // the largest frame maxFrameBytes allows
  return bytes;
}

async function open(port: number, bytes: Buffer): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => socket.write(bytes, () => resolve()));
    socket.once("error", reject);
  });
}

test.each(["length-prefix", "ndjson"] as const)(
  "%s: 1,000 connections that each send 5 bytes cost the server little memory; it still answers",
  async (framing) => {
    const server = await startServer({ framing });
    const before = await server.memory();
    for (let i = 0; i < CONNECTIONS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => open(server.port, fiveBytes(framing))));
    }
    // Every connection is open and its 5 bytes were read.
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
      `[net ${framing}] ${CONNECTIONS} connections × 5 bytes: server grew by ${JSON.stringify(grown, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))} MiB`,
    );
    // Bounds with room to spare (measured: about 4 MiB external, 30 MiB RSS): reserving the
    // announced 1 MiB took 1,000 MiB of external memory, and even a 64 KiB first buffer 64 MiB.
    expect(grown.external).toBeLessThan(32);
    expect(grown.rss).toBeLessThan(200);
    expect(stats.errors).toEqual({});
    // The server still serves a well-behaved client.
    const good = net.connect(server.port, "127.0.0.1");
    sockets.push(good);
    const line = await new Promise<string>((resolve) => {
      let text = "";
      good.on("data", (chunk) => {
        text += chunk.toString("latin1");
        if (framing === "ndjson" && text.includes("\n")) resolve(text.slice(0, text.indexOf("\n")));
        if (framing === "length-prefix" && text.length >= 4 && text.length >= 4 + text.charCodeAt(3))
          resolve(text.slice(4));
      });
      const request = JSON.stringify({ sid: 1, n: 7 });
      if (framing === "ndjson") good.write(`${request}\n`);
      else {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(request.length, 0);
        good.write(Buffer.concat([header, Buffer.from(request)]));
      }
    });
    expect(JSON.parse(line)).toMatchObject({ sid: 1, ok: 7 });
  },
  60_000,
);
