// The summary table from psession's own statistics (`port.stats()`): per device, what the
// controller's port for it counted. When a device goes offline the adapter destroys its port and
// makes a new one on the next command, so the counts of earlier ports of the same name are kept
// (read as they are destroyed) and added.
import type { Port, PortState, PortStats, SessionManager } from "psession";
import { ms } from "./format.js";

export interface DeviceRow {
  device: string;
  /** From the device's availability topic. */
  availability: "online" | "offline";
  /** The controller's port for the device now. */
  port: PortState | "none";
  stats: PortStats[];
}

export class DeviceStatistics {
  private readonly earlier = new Map<string, PortStats[]>();
  private readonly off: () => void;

  constructor(private readonly manager: SessionManager) {
    this.off = manager.on("port:state", (port: Port, state: PortState) => {
      if (state !== "destroyed") return;
      const list = this.earlier.get(port.name) ?? [];
      list.push(port.stats());
      this.earlier.set(port.name, list);
    });
  }

  /** Every port's statistics for `device`, earlier (destroyed) ones first. */
  of(device: string): PortStats[] {
    const current = this.manager.ports.get(device);
    return [...(this.earlier.get(device) ?? []), ...(current === undefined ? [] : [current.stats()])];
  }

  close(): void {
    this.off();
  }
}

const sum = (stats: readonly PortStats[], pick: (s: PortStats) => number) =>
  stats.reduce((total, s) => total + pick(s), 0);

/**
 * Round trips of a device over its ports. Quantiles can't be added: they come from the port that
 * measured the most; the count is every port's.
 */
export function roundTrips(stats: readonly PortStats[]): { count: number; p50?: number; p99?: number } {
  if (stats.length === 0) return { count: 0 };
  const most = stats.reduce((best, s) => (s.roundTrip.count > best.count ? s.roundTrip : best), stats[0]!.roundTrip);
  return { count: sum(stats, (s) => s.roundTrip.count), p50: most.p50, p99: most.p99 };
}

const COLUMNS: { title: string; cell(row: DeviceRow): string }[] = [
  { title: "device", cell: (r) => r.device },
  { title: "availability", cell: (r) => r.availability },
  { title: "port", cell: (r) => r.port },
  { title: "commands", cell: (r) => String(sum(r.stats, (s) => s.requests)) },
  { title: "replies", cell: (r) => String(roundTrips(r.stats).count) },
  { title: "p50", cell: (r) => duration(roundTrips(r.stats).p50) },
  { title: "p99", cell: (r) => duration(roundTrips(r.stats).p99) },
  { title: "retries", cell: (r) => String(sum(r.stats, (s) => s.retries)) },
  { title: "timeouts", cell: (r) => String(sum(r.stats, (s) => s.timeouts)) },
  { title: "cancelled", cell: (r) => String(sum(r.stats, (s) => s.ended.cancelled)) },
  { title: "aborted", cell: (r) => String(sum(r.stats, (s) => s.ended.aborted)) },
  { title: "failed", cell: (r) => String(sum(r.stats, (s) => s.ended.failed)) },
];

/** psession's histogram has whole-millisecond buckets below 16 ms: whole values are shown as such. */
function duration(value: number | undefined): string {
  if (value === undefined) return "-";
  return Number.isInteger(value) ? `${value} ms` : ms(value);
}

/** A plain-text table, columns padded to their widest cell. */
export function formatDeviceTable(rows: readonly DeviceRow[]): string[] {
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((row) => COLUMNS.map((c) => c.cell(row)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)];
}
