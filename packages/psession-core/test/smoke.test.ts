import { expect, test } from "vitest";
import { SessionManager, attach, createMemoryTransportPair } from "psession";

test("smoke", async () => {
  const [a, b] = createMemoryTransportPair();
  const m1 = new SessionManager();
  const m2 = new SessionManager();
  attach(m1, a, { role: "client" });
  attach(m2, b, { role: "server" });
  m2.handle((msg) => ({ echo: msg.x }));
  expect(await m1.request({ x: 1 })).toMatchObject({ echo: 1, sid: 1 });
});
