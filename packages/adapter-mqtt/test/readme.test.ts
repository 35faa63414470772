// Every ```ts block of the README, run as written (each block its own module; only an export line
// is appended, so the test can disconnect what the block connected) against a private mosquitto.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { attach } from "@psession/mqtt";
import type { MqttClient } from "mqtt";
import type { SessionManager } from "psession";
import { afterEach, describe, expect, test, vi } from "vitest";
import { client, manager, mosquittoMissing, privateMosquitto, sleep, trackAttachment, until } from "./fixtures.js";
import { endClient } from "./brokers.js";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

const dir = join(here, `.readme-run-${process.pid}`);
const opened: { client?: MqttClient; manager?: SessionManager }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    o.manager?.clear();
    if (o.client) await endClient(o.client);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs README block `index` as a module; resolves with what it connected once its top level is done. */
async function run(index: number): Promise<{ client?: MqttClient; manager?: SessionManager }> {
  const source = blocks[index]!;
  const names = ["client", "manager"].filter((name) => new RegExp(`^const ${name} = `, "m").test(source));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `block-${index}-${Math.random().toString(36).slice(2, 8)}.ts`);
  writeFileSync(file, `${source}\nexport { ${names.join(", ")} };\n`);
  const exported = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
    client?: MqttClient;
    manager?: SessionManager;
  };
  opened.push(exported);
  return exported;
}

describe.skipIf(mosquittoMissing !== undefined)("README", () => {
  test("has the blocks this test knows: lamp, thermostat, controller, shared-subscription instance", () => {
    expect(blocks).toHaveLength(4);
    expect(blocks[0]).toMatch(/devices\/lamp-1\/status/);
    expect(blocks[1]).toMatch(/thermostat-1/);
    expect(blocks[2]).toMatch(/publish: "devices\/\{port\}\/in"/);
    expect(blocks[3]).toMatch(/\$share\/workers/);
  });

  test("the device, thermostat and controller examples, as written", async () => {
    const broker = await privateMosquitto();
    vi.stubEnv("MQTT_URL", broker.url);
    const logs: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logs.push(args.join(" ")));
    try {
      await run(0); // lamp-1
      await run(1); // thermostat-1
      // plug-9 lost power earlier: its Last Will is on its status topic.
      const plug = await client(broker.url, { protocolVersion: 5 });
      await plug.publishAsync("devices/plug-9/status", "offline", { qos: 1, retain: true });
      await run(2); // the controller: runs its script, then disconnects
      expect(logs).toEqual([
        "lamp-1: needPassword → on",
        "thermostat-1: heating, 18",
        "thermostat-1: heating, 19",
        "thermostat-1: heating, 20",
        "thermostat-1: reached 21",
        "plug-9: offline",
      ]);
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  test("the shared-subscription instance, as written, twice: each session stays on its instance", async () => {
    const broker = await privateMosquitto();
    vi.stubEnv("MQTT_URL", broker.url);
    try {
      const instances = [await run(3), await run(3)];
      const served = instances.map(() => 0);
      for (const [i, instance] of instances.entries()) {
        instance.manager!.on("session:create", (s) => {
          if (s.remote) served[i]!++;
        });
      }
      const { manager: app, errors } = manager();
      const c = await client(broker.url, { protocolVersion: 5 });
      trackAttachment(attach(app, c, { publish: "apps/app-1/req", subscribe: "apps/app-1/res" }));
      await sleep(500); // the README's instances do not await their SUBACK; give them time
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, n) => {
          const session = app.createSession();
          const first = await session.send({ user: `u${n}` });
          const done = await session.send({ password: "123456" });
          session.end();
          return [first.status, done.status, done.user];
        }),
      );
      for (const [n, r] of results.entries()) expect(r).toEqual(["needPassword", "ok", `u${n}`]);
      await until(() => served[0]! + served[1]! === 20, 2000, "both instances to count their sessions");
      expect(served.every((count) => count > 0)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
