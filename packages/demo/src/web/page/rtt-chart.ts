// Round-trip p50 and p99 per device: a Chart.js bar chart, and the same figures as a table (and in
// the chart's label) for people who do not read charts.
import { BarController, BarElement, CategoryScale, Chart, Legend, LogarithmicScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LogarithmicScale, Legend, Tooltip);

export interface RoundTripRow {
  device: string;
  count: number;
  p50?: number | undefined;
  p99?: number | undefined;
}

// psession's histogram has whole-millisecond buckets below 16 ms: whole values are shown as such.
const format = (value: number | undefined) =>
  value === undefined ? "–" : Number.isInteger(value) ? `${value} ms` : `${value.toFixed(value < 10 ? 2 : 0)} ms`;

export class RoundTripChart {
  private readonly chart: Chart<"bar", (number | null)[], string>;
  private shown = "";

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly table: HTMLTableSectionElement,
  ) {
    this.chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { label: "p50 (ms)", data: [], backgroundColor: "#3b6ea8" },
          { label: "p99 (ms)", data: [], backgroundColor: "#c9822b" },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        // Logarithmic: a 1 ms read and a 2 s heating (a round trip lasts until the answer) side by side.
        scales: { y: { type: "logarithmic", title: { display: true, text: "round trip, ms (log scale)" } } },
      },
    });
  }

  update(rows: readonly RoundTripRow[]): void {
    const key = JSON.stringify(rows);
    if (key === this.shown) return;
    this.shown = key;
    const measured = rows.filter((row) => row.count > 0);
    this.chart.data.labels = measured.map((row) => row.device);
    this.chart.data.datasets[0]!.data = measured.map((row) => row.p50 ?? null);
    this.chart.data.datasets[1]!.data = measured.map((row) => row.p99 ?? null);
    this.chart.update();
    const summary = measured.map((row) => `${row.device}: p50 ${format(row.p50)}, p99 ${format(row.p99)}`);
    this.canvas.setAttribute("aria-label", `Round trips per device. ${summary.join("; ") || "No round trips yet."}`);
    this.table.replaceChildren(
      ...rows.map((row) => {
        const tr = document.createElement("tr");
        tr.dataset.device = row.device;
        for (const text of [row.device, String(row.count), format(row.p50), format(row.p99)]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      }),
    );
  }
}
