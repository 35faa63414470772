// The table the demo ends with: one row per device.
import type { Availability } from "./controller.js";
import { type Observations, quantile } from "./observations.js";
import { ms } from "./format.js";

export interface SummaryRow {
  device: string;
  state: string;
  commands: number;
  answered: number;
  p50: number;
  p99: number;
  retries: number;
  timeouts: number;
  cancelled: number;
  offline: number;
}

/** Rows from what the controller observed itself. */
export function rowsFromObservations(
  observations: Observations,
  availability: ReadonlyMap<string, Availability>,
): SummaryRow[] {
  return [...observations.devices].map(([device, record]) => ({
    device,
    state: availability.get(device)?.online === false ? "offline" : "online",
    commands: record.commands,
    answered: record.outcomes.answered,
    p50: quantile(record.roundTrips, 0.5),
    p99: quantile(record.roundTrips, 0.99),
    retries: record.retries,
    timeouts: record.outcomes.timeout,
    cancelled: record.outcomes.cancelled,
    offline: record.outcomes.offline,
  }));
}

const COLUMNS: { title: string; cell(row: SummaryRow): string }[] = [
  { title: "device", cell: (r) => r.device },
  { title: "state", cell: (r) => r.state },
  { title: "commands", cell: (r) => String(r.commands) },
  { title: "answered", cell: (r) => String(r.answered) },
  { title: "p50 round trip", cell: (r) => (Number.isNaN(r.p50) ? "-" : ms(r.p50)) },
  { title: "p99 round trip", cell: (r) => (Number.isNaN(r.p99) ? "-" : ms(r.p99)) },
  { title: "retries", cell: (r) => String(r.retries) },
  { title: "timeouts", cell: (r) => String(r.timeouts) },
  { title: "cancelled", cell: (r) => String(r.cancelled) },
  { title: "offline", cell: (r) => String(r.offline) },
];

/** A plain-text table, columns padded to their widest cell. */
export function formatTable(rows: readonly SummaryRow[]): string[] {
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((row) => COLUMNS.map((c) => c.cell(row)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)];
}
