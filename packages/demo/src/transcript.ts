// The demo's readable transcript: every line stamped with the time since the demo started, who
// speaks, and what. Wire lines come from the controller's MQTT client (what it really sent and got).
import type { MqttClient } from "mqtt";
import { parseTopic } from "./topics.js";

const WHO_WIDTH = 22;

export class Transcript {
  private readonly started = performance.now();
  /** While true, wire lines are counted but not printed (bulk traffic). */
  quiet = false;
  hiddenWireLines = 0;

  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  print(text = ""): void {
    this.write(text);
  }

  heading(text: string): void {
    this.write("");
    this.write(text);
  }

  /** A line said by `who` (a device, the controller), stamped with the time. */
  say(who: string, text: string): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(3).padStart(7);
    this.write(`[${seconds} s] ${who.padEnd(WHO_WIDTH)} ${text}`);
  }

  /**
   * Prints the controller's publishes in and out: `controller → lamp {...}`, `lamp → controller {...}`,
   * availability changes. MQTT.js reports every packet it writes and reads; only publishes are shown.
   */
  watchWire(client: MqttClient): () => void {
    const line = (direction: "out" | "in") => (packet: { cmd: string }) => {
      if (packet.cmd !== "publish") return;
      const { topic, payload, retain, properties } = packet as unknown as {
        topic: string;
        payload: Buffer | string;
        retain?: boolean;
        properties?: { correlationData?: Uint8Array; responseTopic?: string; messageExpiryInterval?: number };
      };
      const parsed = parseTopic(topic);
      if (parsed === undefined) return;
      if (this.quiet) {
        this.hiddenWireLines++;
        return;
      }
      const text = payload.toString();
      let who: string;
      if (parsed.kind === "availability") {
        who = direction === "in" ? `broker → controller` : `controller → broker`;
        const what = text === "" ? "(cleared)" : text;
        this.say(who, `${parsed.device} is ${what}${retain ? " (retained)" : ""}   [${topic}]`);
        return;
      }
      who = direction === "out" ? `controller → ${parsed.device}` : `${parsed.device} → controller`;
      this.say(who, `${text}${describeProperties(properties)}`);
    };
    const out = line("out");
    const inbound = line("in");
    client.on("packetsend", out);
    client.on("packetreceive", inbound);
    return () => {
      client.removeListener("packetsend", out);
      client.removeListener("packetreceive", inbound);
    };
  }
}

/** MQTT 5 request/response properties, shown after the payload. */
function describeProperties(
  properties: { correlationData?: Uint8Array; responseTopic?: string; messageExpiryInterval?: number } | undefined,
): string {
  if (properties === undefined) return "";
  const parts: string[] = [];
  if (properties.correlationData !== undefined)
    parts.push(`correlationData ${new TextDecoder().decode(properties.correlationData)}`);
  if (properties.responseTopic !== undefined) parts.push(`responseTopic ${properties.responseTopic}`);
  if (properties.messageExpiryInterval !== undefined) parts.push(`expiry ${properties.messageExpiryInterval} s`);
  return parts.length === 0 ? "" : `   (MQTT 5: ${parts.join(", ")})`;
}
