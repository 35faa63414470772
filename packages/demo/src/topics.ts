// The demo's topics, laid out as Zigbee2MQTT lays out its devices: commands on `<base>/<device>/set`,
// answers and state on `<base>/<device>`, availability on `<base>/<device>/availability` (retained,
// with a Last Will of "offline").

export const BASE = "psession-demo";

/** The controller's templates: `{port}` is the one topic level that names a device. */
export const controllerTopics = {
  publish: `${BASE}/{port}/set`,
  subscribe: `${BASE}/{port}`,
  status: `${BASE}/{port}/availability`,
} as const;

/** One device's topics: the controller's templates with its name filled in. */
export function deviceTopics(name: string) {
  return {
    publish: `${BASE}/${name}`,
    subscribe: `${BASE}/${name}/set`,
    status: `${BASE}/${name}/availability`,
  };
}

/** The device a topic of the demo names, and which of its topics it is. */
export function parseTopic(topic: string): { device: string; kind: "set" | "state" | "availability" } | undefined {
  const levels = topic.split("/");
  if (levels[0] !== BASE || levels.length < 2 || levels.length > 3) return undefined;
  const device = levels[1]!;
  if (levels.length === 2) return { device, kind: "state" };
  if (levels[2] === "set") return { device, kind: "set" };
  if (levels[2] === "availability") return { device, kind: "availability" };
  return undefined;
}
