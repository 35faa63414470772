// A fleet: one controller, 200 devices, 2,000 sessions at once, none misrouted. On aedes, and on
// a mosquitto with Debian's stock limits (max_queued_messages 1000, no TCP_NODELAY), where the
// default in-flight window is what keeps the broker from dropping replies.
import { describe, expect, test } from "vitest";
import {
  aedesBroker,
  controller,
  device,
  mosquittoMissing,
  privateMosquitto,
  root,
  sleep,
  type Peer,
} from "./fixtures.js";

const DEVICES = 200;
const SESSIONS = 2000;

async function fleet(url: string, protocolVersion: 4 | 5): Promise<void> {
  const base = root();
  const devices: Peer[] = [];
  const handled = new Map<string, number>();
  for (let from = 0; from < DEVICES; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, i) => device(url, base, `dev-${from + i}`, { client: { protocolVersion } })),
    );
    devices.push(...batch);
  }
  devices.forEach((d, i) => {
    const name = `dev-${i}`;
    d.manager.handle(async (m) => {
      handled.set(name, (handled.get(name) ?? 0) + 1);
      await sleep(m.n % 4);
      return { device: name, n: m.n };
    });
  });
  await Promise.all(devices.map((d) => d.mqtt.whenReady()));
  const ctl = await controller(url, base, { client: { protocolVersion }, manager: { sessionTimeout: 20_000 } });
  const replies = await Promise.all(
    Array.from({ length: SESSIONS }, (_, n) =>
      ctl.manager.request(`dev-${n % DEVICES}`, { n }).then((r) => [n, r] as const),
    ),
  );
  for (const [n, r] of replies) expect({ device: r.device, n: r.n }).toEqual({ device: `dev-${n % DEVICES}`, n });
  expect([...handled.values()].every((count) => count === SESSIONS / DEVICES)).toBe(true);
  expect(handled.size).toBe(DEVICES);
  expect(ctl.errors).toEqual([]);
  expect(ctl.manager.size).toBe(0);
  for (const d of devices) expect(d.errors).toEqual([]);
}

describe("fleet", () => {
  test(`aedes: ${DEVICES} devices, ${SESSIONS} sessions at once, none misrouted`, async () => {
    const broker = await aedesBroker();
    await fleet(broker.url, 4);
  }, 60_000);

  test.skipIf(mosquittoMissing !== undefined)(
    `stock mosquitto (max_queued_messages 1000, MQTT 5): ${DEVICES} devices, ${SESSIONS} sessions at once, none lost`,
    async () => {
      const url = process.env.MQTT_URL ?? (await privateMosquitto({ noDelay: false })).url;
      await fleet(url, 5);
    },
    60_000,
  );
});
