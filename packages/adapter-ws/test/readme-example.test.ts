// The README's 150-line WebSocket server/client example, rewritten with attach(): one line a side.
import { attach, whenOpen } from "@psession/ws";
import type { Port } from "psession";
import { afterEach, expect, test } from "vitest";
import { manager, socket, startServer, tcpOf, teardown, until } from "./helpers.js";

afterEach(teardown);

test("README WebSocket example: queries, a server-initiated session and plain messages on one socket", async () => {
  // ---- server ----
  const { wss, url } = await startServer();
  const server = manager({ sessionTimeout: 10_000 });
  attach(server, wss);
  // A client session: two turns (device list, then details of one device) in one handler.
  server.handle(async (request, session) => {
    expect(request.query).toBe("getDeviceList");
    const next = await session.send({ devices: [{ id: "lamp-1" }, { id: "fan-2" }] });
    expect(next.query).toBe("getDeviceDetails");
    return { id: next.deviceId, kind: "lamp", on: true };
  });
  // Plain (non-session) traffic still reaches the application, with the connection's port.
  const commandsFrom: string[] = [];
  server.on("message", async (raw: unknown, port: Port) => {
    const message = raw as { type?: string; command?: string };
    if (message.type !== "command") return;
    commandsFrom.push(port.name);
    // Server → client session on that connection: "processing", the client's ack, then "completed".
    const session = server.createSession(port.name);
    const ack = await session.send({ type: "response", command: message.command, status: "processing" });
    session.post({ type: "response", command: message.command, status: "completed", ack: ack.ok });
    session.end();
  });

  // ---- client ----
  const ws = socket(url);
  const client = manager({ sessionTimeout: 5000 });
  attach(client, ws);
  const updates: unknown[] = [];
  client.on("session:create", (session) => {
    if (!session.remote) return;
    session.on("next", (message) => {
      updates.push(message.status);
      if (message.status === "processing") session.post({ ok: true });
      else session.end();
    });
  });
  await whenOpen(ws);

  ws.send(JSON.stringify({ type: "command", command: "getStatus" }));
  const session = client.createSession();
  const response = await session.send({ type: "query", query: "getDeviceList" });
  const details = await session.send({ type: "query", query: "getDeviceDetails", deviceId: response.devices[0].id });
  session.end();

  expect(response.devices).toHaveLength(2);
  expect(details).toMatchObject({ id: "lamp-1", kind: "lamp", on: true });
  await until(() => updates.length === 2);
  expect(updates).toEqual(["processing", "completed"]);
  expect(commandsFrom).toEqual([`127.0.0.1:${tcpOf(ws).localPort}`]);
  await until(() => server.size === 0 && client.size === 0);
  expect(server.errors).toEqual([]);
  expect(client.errors).toEqual([]);
});
