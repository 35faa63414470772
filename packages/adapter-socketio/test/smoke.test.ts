import { attach } from "@psession/socketio";
import { afterEach, expect, test } from "vitest";
import { client, manager, startServer, teardown, whenConnected } from "./helpers.js";

afterEach(teardown);

test("smoke", async () => {
  const server = await startServer();
  const { manager: sm, errors: se } = manager();
  const { manager: cm, errors: ce } = manager();
  const handle = attach(sm, server.io);
  sm.handle((m) => ({ echo: m.n }));
  cm.handle((m) => ({ back: m.n }));
  const socket = client(server.url, { auth: { id: "alice" } });
  const port = attach(cm, socket);
  expect(await port.request({ n: 1 })).toMatchObject({ echo: 1 });
  await whenConnected(socket);
  expect([...handle.ports.values()].map((p) => p.name)).toEqual(["alice"]);
  expect(await sm.request("alice", { n: 2 })).toMatchObject({ back: 2 });
  expect(se).toEqual([]);
  expect(ce).toEqual([]);
});
