// `MQTT_URL=… MQTT_WS_URL=… pnpm demo --web` as the root README writes it, against a private
// mosquitto with a WebSocket listener: @psession/mqtt in Chromium speaking MQTT 5 (responseTopic,
// correlationData), which the embedded aedes cannot.
import mqtt from "mqtt";
import type { Browser } from "playwright-core";
import { afterAll, describe, expect, test } from "vitest";
import { findMosquitto, freePort, type MosquittoBroker, startMosquitto } from "../../adapter-mqtt/test/brokers.js";
import { chromiumMissing, launchChromium } from "./chromium.js";
import { envWith, Running, shellLines, tryItSection } from "./commands.js";

const mosquittoMissing = findMosquitto() === undefined ? "mosquitto is not installed" : undefined;
const missing = chromiumMissing ?? mosquittoMissing;
if (missing) console.log(`[@psession/demo] skipping the MQTT 5 browser console test: ${missing}`);

const command = shellLines(tryItSection()).find((line) => line.startsWith("MQTT_URL=") && line.endsWith(" demo --web"));

describe.skipIf(missing !== undefined)("the device console on mosquitto, MQTT 5 in Chromium", () => {
  let broker: MosquittoBroker | undefined;
  let browser: Browser | undefined;
  let server: Running | undefined;

  afterAll(async () => {
    await browser?.close();
    server?.signal("SIGKILL");
    await broker?.close();
  });

  test("the lamp's dialogue and the thermostat's progress over MQTT 5; Ctrl-C leaves no retained message", async () => {
    expect(command).toBe(
      "MQTT_URL=mqtt://127.0.0.1:1883 MQTT_WS_URL=ws://127.0.0.1:9001 npx -y pnpm@10.34.9 demo --web",
    );
    const wsPort = await freePort();
    // mosquitto's WebSocket listener ignores the address; bind_interface keeps it on loopback.
    broker = await startMosquitto({
      config: [`listener ${wsPort} 127.0.0.1`, "protocol websockets", "bind_interface lo"],
    });
    const wsUrl = `ws://127.0.0.1:${wsPort}`;
    server = new Running(
      command!.replace("mqtt://127.0.0.1:1883", broker.url).replace("ws://127.0.0.1:9001", wsUrl),
      envWith(),
    );
    const url = (await server.waitFor(/device console: (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    expect(server.output).toContain(`broker: MQTT_URL ${broker.url} and ${wsUrl} (MQTT over WebSocket), MQTT 5`);

    browser = await launchChromium();
    const page = await browser.newPage();
    page.on("pageerror", (error) => console.error("[device console page]", error));
    await page.goto(url);
    await expect
      .poll(() => page.locator("#connection").textContent())
      .toBe(`connected to ${wsUrl} (MQTT 5 over WebSocket)`);
    const card = (device: string) => page.locator(`article[data-device="${device}"]`);
    const newestRow = (device: string) => page.locator(`#log-body tr[data-device="${device}"]`).first();
    await expect.poll(() => card("lamp").locator(".availability").textContent()).toBe("online");

    await card("lamp").getByRole("button", { name: "Turn on (asks for a password)" }).click();
    await card("lamp").getByLabel("lamp asks for its password:").fill("123456");
    await card("lamp").getByRole("button", { name: "Answer" }).click();
    await expect.poll(() => newestRow("lamp").getAttribute("data-outcome")).toBe("reply");
    expect(await newestRow("lamp").locator(".detail").textContent()).toBe('{"status":"ok","state":"ON"}');

    await card("thermostat").getByRole("button", { name: "Heat to 24 °C" }).click();
    await expect.poll(() => newestRow("thermostat").getAttribute("data-outcome"), { timeout: 10_000 }).toBe("reply");
    expect(await card("thermostat").locator("progress").getAttribute("value")).toBe("100");

    await browser.close();
    browser = undefined;
    server.signal("SIGINT");
    await server.exited;
    expect(server.output, server.output).toMatch(/\nstopped\n/);

    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const retained: string[] = [];
    client.on("message", (topic, payload) => retained.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync("psession-demo/#");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.endAsync();
    expect(retained).toEqual([]);
  }, 90_000);
});
