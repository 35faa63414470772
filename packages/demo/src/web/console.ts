// `pnpm demo --web`: the same broker (also on MQTT over WebSocket), the same devices, and the web
// server of the device console. Runs until closed.
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker.js";
import type { SimulatedDevice } from "../device.js";
import { createLamp } from "../devices/lamp.js";
import { createPlug } from "../devices/plug.js";
import { createThermostat } from "../devices/thermostat.js";
import { clearAvailability } from "../retained.js";
import { Transcript } from "../transcript.js";
import { startWebServer, type WebServer } from "./server.js";

/** 0.5 °C per step: slow enough to watch the bar and press Cancel. */
const WEB_STEP_MS = 250;
/** The plug comes back this long after it lost power, so it can be tried again. */
const PLUG_REBOOT_MS = 5000;

export interface ConsoleOptions {
  /** A broker of the user's (MQTT 5) for the devices; then `wsUrl` is its WebSocket listener, for the page. */
  url?: string;
  wsUrl?: string;
  write?: (line: string) => void;
}

export interface WebConsole {
  pageUrl: string;
  close(): Promise<void>;
}

export async function startWebConsole(options: ConsoleOptions = {}): Promise<WebConsole> {
  if (options.url !== undefined && options.wsUrl === undefined) {
    throw new Error("with MQTT_URL, --web also needs MQTT_WS_URL: the broker's MQTT over WebSocket listener");
  }
  const t = new Transcript(options.write);
  let broker: EmbeddedBroker | undefined;
  let server: WebServer | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const v5 = options.url !== undefined;
  const devices: SimulatedDevice[] = [];
  const close = async () => {
    for (const timer of timers) clearTimeout(timer);
    await server?.close();
    for (const device of devices) await device.shutDown().catch(() => {});
    if (options.url !== undefined)
      await clearAvailability(
        options.url,
        v5,
        devices.map((d) => d.name),
      ).catch(() => {});
    await broker?.close();
  };
  try {
    if (options.url === undefined) broker = await startEmbeddedBroker({ websocket: true });
    const url = options.url ?? broker!.url;
    const wsUrl = options.wsUrl ?? broker!.wsUrl!;
    t.print(
      `broker: ${broker ? "embedded aedes" : "MQTT_URL"} ${url} and ${wsUrl} (MQTT over WebSocket), ${v5 ? "MQTT 5" : "MQTT 3.1.1"}`,
    );
    const lamp = createLamp(url, v5, (text) => t.say("lamp (device)", text));
    const thermostat = createThermostat(url, v5, (text) => t.say("thermostat (device)", text), WEB_STEP_MS);
    const plug = createPlug(url, v5, (text) => t.say("plug (device)", text));
    plug.onPowerLost = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        plug.device.powerOn().then(
          () => t.say("plug (device)", "power restored: online again"),
          (error: Error) => t.say("plug (device)", `could not reconnect: ${error.message}`),
        );
      }, PLUG_REBOOT_MS);
      timers.add(timer);
    };
    for (const device of [lamp.device, thermostat.device, plug.device]) {
      devices.push(device);
      await device.powerOn();
      t.say(`${device.name} (device)`, `online, listening on ${device.topics.subscribe}`);
    }
    server = await startWebServer({ wsUrl, protocolVersion: v5 ? 5 : 4, devices: devices.map((d) => d.name) });
    t.print(`device console: ${server.url}`);
    return { pageUrl: server.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
