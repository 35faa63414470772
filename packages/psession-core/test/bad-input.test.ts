import { afterEach, expect, test } from "vitest";
import { SessionManager } from "psession";
import { loopback } from "./helpers.js";

const throwing = new Proxy(
  {},
  {
    get() {
      throw new Error("trap");
    },
    has() {
      throw new Error("trap");
    },
    getOwnPropertyDescriptor() {
      throw new Error("trap");
    },
    ownKeys() {
      throw new Error("trap");
    },
    getPrototypeOf() {
      throw new Error("trap");
    },
  },
);
const getter = Object.defineProperty({}, "sid", {
  enumerable: true,
  get() {
    throw new Error("getter");
  },
});

const HOSTILE: unknown[] = [
  undefined,
  null,
  0,
  1,
  -1,
  NaN,
  "sid",
  "",
  true,
  Symbol("x"),
  10n,
  () => 1,
  [],
  [{ sid: 1 }],
  Object.create(null),
  Object.assign(Object.create(null), { sid: 1.5 }),
  { sid: "1" },
  { sid: -3 },
  { sid: 0.5 },
  { sid: NaN },
  { sid: Infinity },
  { sid: 2 ** 53 },
  { sid: 1e300 },
  { sid: {} },
  { sid: { valueOf: () => 1 } },
  { __proto__: { sid: 1 } },
  JSON.parse('{"__proto__":{"sid":1}}'),
  throwing,
  getter,
];

let managers: SessionManager[] = [];
afterEach(() => {
  for (const m of managers) m.clear();
  managers = [];
});

test("isSession and getSession never throw, and accept only own positive integer sids in range", () => {
  const m = new SessionManager({ sender: () => {} });
  managers.push(m);
  m.on("error", () => {});
  for (const value of HOSTILE) {
    expect(() => m.isSession(value)).not.toThrow();
    expect(m.isSession(value)).toBe(false);
    expect(() => m.getSession(value)).not.toThrow();
    expect(m.getSession(value)).toBeUndefined();
    expect(() => m.getSession(value, "no-such-port")).not.toThrow();
  }
  expect(m.isSession({ sid: 1 })).toBe(true);
  expect(m.isSession({ sid: 65_535 })).toBe(true);
  expect(m.isSession({ sid: 65_536 })).toBe(false);
  expect(m.size).toBe(0);
});

test("receive() reports each hostile message once (message or error event) and keeps working", async () => {
  const { client, server, clientPort, errors } = loopback();
  managers.push(client, server);
  server.handle(() => ({ fine: true }));
  const messages: unknown[] = [];
  server.on("message", (m) => void messages.push(m));
  for (const value of HOSTILE) expect(() => server.receive(value)).not.toThrow();
  expect(messages.length + errors.length).toBe(HOSTILE.length);
  expect(errors.every((e) => e instanceof Error && e.message.length > 0)).toBe(true);
  expect(errors.some((e) => /invalid sid "1"/.test(e.message))).toBe(true);
  expect(server.size).toBe(0);
  expect(await clientPort.request({})).toMatchObject({ fine: true });
});

test("a throwing listener is reported on error and does not break routing", async () => {
  const { client, server, clientPort, errors } = loopback();
  managers.push(client, server);
  server.on("session:create", () => {
    throw new Error("listener bug");
  });
  server.handle(() => ({ fine: true }));
  expect(await clientPort.request({})).toMatchObject({ fine: true });
  expect(errors.map((e) => e.message)).toContain("listener bug");
});

test("a message for an unknown port is reported, not thrown", () => {
  const m = new SessionManager();
  managers.push(m);
  const errors: Error[] = [];
  m.on("error", (e) => void errors.push(e));
  expect(() => m.receive({ sid: 1 }, "ghost")).not.toThrow();
  expect(errors[0]?.message).toMatch(/unknown port "ghost"/);
});
