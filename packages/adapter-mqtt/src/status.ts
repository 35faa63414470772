// Availability payloads as devices publish them: "online"/"offline" (psession, Zigbee2MQTT's
// legacy form), "Online"/"Offline" (Tasmota's LWT), or Zigbee2MQTT's JSON {"state":"online"}.

const decoder = new TextDecoder();

export const ONLINE = "online";
export const OFFLINE = "offline";

/** true = online, false = offline, undefined = not an availability payload (or a cleared retained one). */
export function parseStatus(payload: Uint8Array): boolean | undefined {
  if (payload.length === 0 || payload.length > 256) return undefined;
  let text = decoder.decode(payload).trim();
  if (text.startsWith("{")) {
    try {
      const value = JSON.parse(text) as { state?: unknown };
      text = typeof value?.state === "string" ? value.state : "";
    } catch {
      return undefined;
    }
  }
  text = text.toLowerCase();
  return text === ONLINE ? true : text === OFFLINE ? false : undefined;
}

/**
 * The Last Will a device passes to `mqtt.connect()`, so the broker publishes `offline` (retained)
 * on its status topic when it drops off without saying goodbye.
 */
export function lastWill(
  statusTopic: string,
  qos: 0 | 1 | 2 = 1,
): { topic: string; payload: string; qos: 0 | 1 | 2; retain: true } {
  return { topic: statusTopic, payload: OFFLINE, qos, retain: true };
}
