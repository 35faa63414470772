// The plug: switching it on cuts its own power half-way through the command (a relay that trips
// its fuse), so its connection drops without a goodbye and the broker publishes its Last Will.
import { SimulatedDevice } from "../device.js";
import { pause } from "../pause.js";

/** How long the plug works on "ON" before its power goes. */
export const PLUG_FAILS_AFTER_MS = 100;

export interface Plug {
  device: SimulatedDevice;
  /** When the power went (performance.now()), once it has. */
  readonly poweredOffAt: number | undefined;
  /** Called once the power is gone (the browser console restores it after a while). */
  onPowerLost: (() => void) | undefined;
}

export function createPlug(url: string, v5: boolean, say: (text: string) => void): Plug {
  let state: "ON" | "OFF" = "OFF";
  let poweredOffAt: number | undefined;
  const device = new SimulatedDevice({
    name: "plug",
    url,
    v5,
    say,
    async handler(request) {
      if (request.get === "state") return { state, power: state === "ON" ? 41.5 : 0 };
      if (request.state === "ON") {
        say("switching the relay ON…");
        await pause(PLUG_FAILS_AFTER_MS);
        say("the fuse tripped: power lost mid-command (no MQTT DISCONNECT is sent)");
        poweredOffAt = performance.now();
        await device.cutPower();
        plug.onPowerLost?.();
        return; // never leaves: the session ended with the connection
      }
      if (request.state === "OFF") {
        state = "OFF";
        return { status: "ok", state };
      }
      return { status: "unknownCommand" };
    },
  });
  const plug: Plug = {
    device,
    get poweredOffAt() {
      return poweredOffAt;
    },
    onPowerLost: undefined,
  };
  return plug;
}
