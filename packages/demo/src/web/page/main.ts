// The device console: the controller of the demo, in the browser, over MQTT on WebSocket
// (MQTT.js's browser build and @psession/mqtt, bundled by esbuild).
import "./buffer-shim.js";
import type { Message, Port } from "psession";
import { Controller } from "../../controller.js";
import { fields } from "../../format.js";
import { DeviceStatistics, roundTrips } from "../../stats-table.js";
import type { ConsoleConfig } from "../config.js";
import { QUICK_COMMANDS, runCommand } from "./commands.js";
import { DeviceCard } from "./device-card.js";
import { RoundTripChart } from "./rtt-chart.js";
import { SessionLog } from "./session-log.js";

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const config = JSON.parse(byId("config").textContent ?? "{}") as ConsoleConfig;
const connection = byId("connection");
const devicesElement = byId("devices");
const log = new SessionLog(byId<HTMLTableSectionElement>("log-body"));
const chart = new RoundTripChart(byId<HTMLCanvasElement>("rtt-chart"), byId<HTMLTableSectionElement>("rtt-body"));
const cards = new Map<string, DeviceCard>();

const protocol = config.protocolVersion === 5 ? "MQTT 5" : "MQTT 3.1.1";
let controller: Controller;
try {
  controller = await Controller.connect(config.wsUrl, config.protocolVersion === 5);
} catch (error) {
  connection.textContent = `could not connect to ${config.wsUrl}: ${error instanceof Error ? error.message : String(error)}`;
  throw error;
}
connection.textContent = `connected to ${config.wsUrl} (${protocol} over WebSocket)`;
controller.client.on("close", () => {
  connection.textContent = `disconnected from ${config.wsUrl}: reconnecting…`;
});
controller.client.on("connect", () => {
  connection.textContent = `connected to ${config.wsUrl} (${protocol} over WebSocket)`;
});

// p50/p99 from psession's own statistics of the controller's port for each device.
const statistics = new DeviceStatistics(controller.manager);
function updateChart(): void {
  chart.update([...cards.keys()].map((device) => ({ device, ...roundTrips(statistics.of(device)) })));
}

function cardOf(device: string): DeviceCard {
  let card = cards.get(device);
  if (card === undefined) {
    const created = new DeviceCard(device, QUICK_COMMANDS[device] ?? [], (message) => {
      void runCommand(controller, created, log, message, updateChart);
    });
    card = created;
    cards.set(device, card);
    devicesElement.append(card.element);
  }
  return card;
}

for (const device of config.devices) cardOf(device);
for (const [device, availability] of controller.availability)
  cardOf(device).setAvailability(availability.online, availability.lastSeen);
controller.onAvailability((device, availability) =>
  cardOf(device).setAvailability(availability.online, availability.lastSeen),
);

// What devices publish outside sessions (their state, as Zigbee2MQTT devices do).
controller.manager.on("message", (message: unknown, port: Port) => {
  const state = message as Message;
  const text = fields(state);
  cardOf(port.name).showReport(`reported ${text}`);
  if (state.event === "cancelled") log.latestOf(port.name)?.append(`Device reported: stopped (cancelled), ${text}.`);
});
controller.manager.on("error", (error: Error) => console.warn("[device console]", error.message));

setInterval(() => {
  for (const card of cards.values()) card.tick();
}, 1000);
updateChart();
document.body.dataset.ready = "true";
