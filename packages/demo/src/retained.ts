// On a broker of the user's, the demo leaves nothing behind: its devices' availability is
// retained there ("online", then "offline" from their goodbye or Last Will) until cleared.
import mqtt from "mqtt";
import { deviceTopics } from "./topics.js";

/** Publishes an empty retained message on each device's availability topic, which deletes it. */
export async function clearAvailability(url: string, v5: boolean, devices: readonly string[]): Promise<void> {
  const client = await mqtt.connectAsync(
    url,
    { protocolVersion: v5 ? 5 : 4, reconnectPeriod: 0, connectTimeout: 5000 },
    false,
  );
  try {
    for (const device of devices) await client.publishAsync(deviceTopics(device).status, "", { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}
