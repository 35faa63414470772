// `pnpm demo --web`, started as the root README says, driven in real Chromium (Debian's
// /usr/bin/chromium through playwright-core) as a person would: the devices online, the lamp's
// password typed into the page, the thermostat's progress bar, a cancel that reaches the device's
// handler, the round-trip chart, the plug going offline. UPDATE_SCREENSHOT=1 saves docs/device-console.png.
import { writeFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PLUG_FAILS_AFTER_MS } from "../src/devices/plug.js";
import { chromiumMissing, launchChromium } from "./chromium.js";
import { envWith, Running, root, shellLines, tryItSection } from "./commands.js";

if (chromiumMissing) console.log(`[@psession/demo] skipping the browser console test: ${chromiumMissing}`);

const command = shellLines(tryItSection()).find((line) => line.startsWith("npx") && line.endsWith(" demo --web"));

describe.skipIf(chromiumMissing !== undefined)("the device console in Chromium", () => {
  let server: Running;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;

  const card = (device: string) => page.locator(`article[data-device="${device}"]`);
  const availability = (device: string) => card(device).locator(".availability");
  const newestRow = (device: string) => page.locator(`#log-body tr[data-device="${device}"]`).first();

  beforeAll(async () => {
    expect(command).toBe("npx -y pnpm@10.34.9 demo --web");
    server = new Running(command!, envWith());
    url = (await server.waitFor(/device console: (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("pageerror", (error) => console.error("[device console page]", error));
    await page.goto(url);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.signal("SIGKILL");
  });

  test("every device is shown online, in words, with its last-seen time", async () => {
    await expect
      .poll(() => page.locator("#connection").textContent())
      .toMatch(/^connected to ws:\/\/127\.0\.0\.1:\d+ \(MQTT 3\.1\.1 over WebSocket\)$/);
    for (const device of ["lamp", "thermostat", "plug"]) {
      await expect.poll(() => availability(device).textContent()).toBe("online");
      await expect
        .poll(() => card(device).locator(".last-seen").textContent())
        .toMatch(/^last seen (just now|\d+ s ago)$/);
    }
  });

  test("the lamp's password dialogue, by keyboard: the page asks, the answer goes back in the same session", async () => {
    // The first control on the page is the lamp's "Turn on"; Tab reaches it, Enter presses it.
    await page.locator("body").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Turn on (asks for a password)");
    await page.keyboard.press("Enter");
    const prompt = card("lamp").locator("form.prompt");
    await expect.poll(() => prompt.isVisible()).toBe(true);
    expect(await prompt.locator("label").textContent()).toBe("lamp asks for its password:");
    expect(await newestRow("lamp").locator(".outcome").textContent()).toBe("waiting for you");
    // The answer box has the focus: type and press Enter.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("device-lamp-answer");
    await page.keyboard.type("123456");
    await page.keyboard.press("Enter");
    await expect.poll(() => newestRow("lamp").getAttribute("data-outcome")).toBe("reply");
    expect(await newestRow("lamp").locator(".detail").textContent()).toBe('{"status":"ok","state":"ON"}');
    expect(await newestRow("lamp").locator(".round-trip").textContent()).toMatch(/^[\d.]+ ms$/);
    expect(await prompt.isVisible()).toBe(false);
    // One session, two turns, on the device's side too.
    await server.waitFor(
      /lamp \(device\) +asked to turn ON: a password first[\s\S]*lamp \(device\) +password accepted/,
      5000,
    );
  });

  test("Cancel while the lamp waits for its password ends the session on both sides", async () => {
    await card("lamp").getByRole("button", { name: "Turn on (asks for a password)" }).click();
    const prompt = card("lamp").locator("form.prompt");
    await expect.poll(() => prompt.isVisible()).toBe(true);
    await newestRow("lamp")
      .getByRole("button", { name: /^Cancel session \d+ \(lamp\)$/ })
      .click();
    await expect.poll(() => newestRow("lamp").getAttribute("data-outcome")).toBe("cancelled");
    expect(await prompt.isVisible()).toBe(false);
    await server.waitFor(
      /lamp \(device\) +no password came: SessionCancelError \(the controller ended the session\)/,
      5000,
    );
  });

  test("the thermostat's progress bar moves with onProgress and reaches 100 %", async () => {
    await card("thermostat").getByRole("button", { name: "Heat to 24 °C" }).click();
    const bar = card("thermostat").locator("progress");
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          seen.add(Number(await bar.getAttribute("value")));
          return Math.max(...seen);
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(100);
    // It went through values between, not straight to the end.
    expect([...seen].some((value) => value > 0 && value < 100)).toBe(true);
    await expect.poll(() => newestRow("thermostat").getAttribute("data-outcome")).toBe("reply");
    expect(await newestRow("thermostat").locator(".detail").textContent()).toMatch(/^\{"local_temperature":24,/);
  });

  test("Cancel on a running session reaches the thermostat's handler, and the device reports it", async () => {
    await card("thermostat").getByRole("button", { name: "Heat to 30 °C" }).click();
    const row = newestRow("thermostat");
    await expect.poll(() => row.locator(".detail").textContent()).toMatch(/^progress \d+ %/);
    await row.getByRole("button", { name: /^Cancel session \d+ \(thermostat\)$/ }).click();
    await expect.poll(() => row.getAttribute("data-outcome")).toBe("cancelled");
    // The device's handler saw it (its own line), and the device said so on its state topic.
    await server.waitFor(/thermostat \(device\) +handler saw the cancel at [\d.]+ °C: heating stopped/, 5000);
    await expect.poll(() => row.locator(".detail").textContent()).toMatch(/Device reported: stopped \(cancelled\)/);
    await expect.poll(() => card("thermostat").locator(".report").textContent()).toMatch(/"event":"cancelled"/);
    expect(await row.getByRole("button").count()).toBe(0);
  });

  test("round trips per device: p50 and p99 in the chart and its table", async () => {
    await card("lamp").getByRole("button", { name: "Read state" }).click();
    await expect.poll(() => newestRow("lamp").getAttribute("data-outcome")).toBe("reply");
    const lamp = page.locator('#rtt-body tr[data-device="lamp"] td');
    // Four answered turns: the dialogue's two, the cancelled dialogue's first and the read.
    await expect.poll(() => lamp.nth(1).textContent()).toBe("4");
    expect(await lamp.nth(2).textContent()).toMatch(/^[\d.]+ ms$/);
    expect(await lamp.nth(3).textContent()).toMatch(/^[\d.]+ ms$/);
    const label = await page.locator("#rtt-chart").getAttribute("aria-label");
    expect(label).toMatch(/lamp: p50 [\d.]+ ms, p99 [\d.]+ ms; thermostat: p50 [\d.]+ ms, p99 [\d.]+ ms/);
    // Chart.js drew bars: the canvas is not blank.
    const painted = await page.locator("#rtt-chart").evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let colored = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && data[i]! !== data[i + 2]!) colored++;
      return colored;
    });
    expect(painted).toBeGreaterThan(100);
  });

  test("the plug goes offline mid-command: marked offline within a second; its commands fail at once", async () => {
    const clicked = Date.now();
    await card("plug").getByRole("button", { name: "Switch on (trips its fuse)" }).click();
    await expect
      .poll(() => availability("plug").textContent(), { timeout: PLUG_FAILS_AFTER_MS + 1000, interval: 20 })
      .toBe("offline");
    const offlineAfter = Date.now() - clicked;
    expect(offlineAfter).toBeLessThan(PLUG_FAILS_AFTER_MS + 1000);
    await expect.poll(() => newestRow("plug").getAttribute("data-outcome")).toBe("offline");
    expect(await newestRow("plug").locator(".detail").textContent()).toBe(
      'SessionAbortError: device "plug" went offline',
    );

    await card("plug").getByRole("button", { name: "Read state" }).click();
    await expect
      .poll(() => newestRow("plug").locator(".detail").textContent())
      .toMatch(/^SessionChannelError: device "plug" is offline/);
    expect(await newestRow("plug").getAttribute("data-outcome")).toBe("offline");

    // The README's picture: refreshed only on request, so a test run leaves the checkout as it was.
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.byteLength).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOT === "1") writeFileSync(`${root}docs/device-console.png`, shot);

    // It comes back (the console restores its power after five seconds), and the page sees it.
    await expect.poll(() => availability("plug").textContent(), { timeout: 15_000 }).toBe("online");
  }, 30_000);

  test("Ctrl-C stops the console, the devices and the broker", async () => {
    await browser?.close();
    browser = undefined;
    server.signal("SIGINT");
    const exit = await Promise.race([
      server.exited,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000)),
    ]);
    expect(exit, server.output).toBeDefined();
    expect(server.output, server.output).toMatch(/\nstopped\n/);
  }, 20_000);
});
