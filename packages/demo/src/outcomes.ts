// What the controller saw, per device: each command's outcome and round-trip time, measured here,
// and retries as they left on the wire (attempts with $try above 1).
import type { MqttClient } from "mqtt";
import { SessionAbortError, SessionCancelError, SessionChannelError, SessionTimeoutError } from "psession";
import { parseTopic } from "./topics.js";

export type Outcome = "answered" | "timeout" | "cancelled" | "offline" | "aborted" | "failed";

export interface DeviceRecord {
  /** Turns sent that waited for an answer. */
  commands: number;
  outcomes: Record<Outcome, number>;
  /** Round-trip times of the answered turns, ms. */
  roundTrips: number[];
  /** Attempts after the first, as published. */
  retries: number;
}

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof SessionTimeoutError) return "timeout";
  if (error instanceof SessionCancelError) return "cancelled";
  if (error instanceof SessionChannelError && error.code === "OFFLINE") return "offline";
  // The adapter aborts a device's pending sessions when it goes offline, with OFFLINE as the cause.
  if (error instanceof SessionAbortError) {
    const cause = error.cause;
    return cause instanceof SessionChannelError && cause.code === "OFFLINE" ? "offline" : "aborted";
  }
  return "failed";
}

/** The value at quantile `q` (0..1) of `values`, by nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export class Observations {
  readonly devices = new Map<string, DeviceRecord>();

  of(device: string): DeviceRecord {
    let record = this.devices.get(device);
    if (record === undefined) {
      record = {
        commands: 0,
        outcomes: { answered: 0, timeout: 0, cancelled: 0, offline: 0, aborted: 0, failed: 0 },
        roundTrips: [],
        retries: 0,
      };
      this.devices.set(device, record);
    }
    return record;
  }

  answered(device: string, roundTrip: number): void {
    const record = this.of(device);
    record.commands++;
    record.outcomes.answered++;
    record.roundTrips.push(roundTrip);
  }

  failed(device: string, error: unknown): Outcome {
    const record = this.of(device);
    const outcome = outcomeOf(error);
    record.commands++;
    record.outcomes[outcome]++;
    return outcome;
  }

  /** Counts the retries the controller's client publishes. */
  watchRetries(client: MqttClient): () => void {
    const listener = (packet: { cmd: string }) => {
      if (packet.cmd !== "publish") return;
      const { topic, payload } = packet as unknown as { topic: string; payload: Buffer | string };
      const parsed = parseTopic(topic);
      if (parsed?.kind !== "set") return;
      try {
        const attempt = (JSON.parse(payload.toString()) as { $try?: unknown }).$try;
        if (typeof attempt === "number" && attempt > 1) this.of(parsed.device).retries++;
      } catch {
        // not JSON: not ours
      }
    };
    client.on("packetsend", listener);
    return () => client.removeListener("packetsend", listener);
  }
}
