// Shared benchmark helpers. Each suite file `bench/<name>.bench.ts` default-exports
// `async () => BenchTable[]`; `pnpm bench [name…]` runs each in a process of its own (start.mjs)
// and prints the tables.

export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** One-line description of what was measured and how. */
  note?: string;
}

export type Suite = () => Promise<BenchTable[]>;

/**
 * A full collection before a contender's warm-up (with --expose-gc, which `pnpm bench` passes): in
 * an interleaved run no contender pays for the garbage the previous one left. Always before the
 * warm-up, never between it and the measurement: a full collection throws away optimized code
 * that embeds objects it frees (V8's "weak objects" deopt), so a measurement right after one
 * starts on partly unoptimized code (docs/benchmarks.md, run of 02:55 UTC).
 */
export function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  gc();
}

/** Runs `round` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export async function opsPerSecond(round: () => Promise<number>, ms = 2000, warmupMs = 500): Promise<number> {
  collect();
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await round();
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) ops += await round();
  return (ops * 1000) / (performance.now() - start);
}

/**
 * Sequential calls before a latency measurement, after collect(). The full collection throws away
 * optimized code, and the longer a contender's code path, the more calls it takes to optimize it
 * again: with 300–500 calls, psession's p50 on aedes and Socket.IO was 10–25% above its steady
 * state while the hand-written contenders' moved 1–5% (docs/benchmarks.md, run of 04:47 UTC).
 */
export const WARMUP_CALLS = 3000;

export interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

/** Runs `once` `count` times sequentially after `warmup` runs; returns latency percentiles in µs. */
export function latency(once: () => Promise<unknown>, count = 5000, warmup = WARMUP_CALLS): Promise<Latency> {
  return latencies([once], count, warmup).then((all) => all[0]!);
}

/**
 * Sequential latency of several contenders measured together: one call of each per turn (in a new
 * random order each turn), never two at once, so every contender meets the same machine. This VM
 * switches between a fast and a slow speed for seconds at a time (Socket.IO p50 25 against 35–40 µs): with
 * contenders measured one after another, a median could land on the slow speed for one contender
 * and on the fast one for the next (docs/benchmarks.md, run of 07:40 UTC). Percentiles in µs.
 */
export async function latencies(
  calls: (() => Promise<unknown>)[],
  count = 5000,
  warmup = WARMUP_CALLS,
): Promise<Latency[]> {
  collect();
  for (let i = 0; i < warmup; i++) for (const call of calls) await call();
  const samples = calls.map(() => new Float64Array(count));
  // Each turn calls the contenders in a new random order. A call is faster right after one that ran
  // the same code (its caches are warm): with a fixed order, emitWithAck placed right after itself
  // read 3% faster than emitWithAck placed after psession, and each contender's ratio depended on
  // which one it followed (docs/benchmarks.md, run of 2026-12-06).
  const order = calls.map((_, c) => c);
  for (let i = 0; i < count; i++) {
    shuffle(order);
    for (const c of order) {
      const t = performance.now();
      await calls[c]!();
      samples[c]![i] = (performance.now() - t) * 1000;
    }
  }
  return samples.map((s) => {
    s.sort();
    let sum = 0;
    for (const x of s) sum += x;
    return { p50: s[Math.floor(count * 0.5)]!, p99: s[Math.floor(count * 0.99)]!, mean: sum / count };
  });
}

/** `inFlight` requests kept in flight at once, for `ms`: returns completed requests per second. */
export async function throughput(call: () => Promise<unknown>, inFlight = 256, ms = 2000): Promise<number> {
  const round = async () => {
    const batch: Promise<unknown>[] = new Array(inFlight);
    for (let i = 0; i < inFlight; i++) batch[i] = call();
    await Promise.all(batch);
    return inFlight;
  };
  return opsPerSecond(round, ms);
}

/** Fisher–Yates, in place. */
function shuffle(items: number[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `a / b` paired by round: the median over rounds of `a[r] / b[r]`. Both values of a round were
 * measured together (in turn, within a second or two), so a change of the machine's speed between
 * rounds cancels out; each side's own median could land on different speeds (docs/benchmarks.md).
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, r) => x / b[r]!));
}

/**
 * A table's rows for contenders measured over rounds (`lat[i][round]`, `rps[i][round]`): name,
 * median p50, p99 and req/s, then req/s and p50 against contender `ref`, paired by round. Latency
 * is a speed ratio too: 90% means 1/0.9 ≈ 11% slower.
 */
export function roundRows(
  names: readonly string[],
  lat: readonly Latency[][],
  rps: readonly number[][],
  ref = 0,
): string[][] {
  const p50s = lat.map((rounds) => rounds.map((l) => l.p50));
  return names.map((name, i) => [
    name,
    fmt(median(p50s[i]!), 1),
    fmt(median(lat[i]!.map((l) => l.p99)), 1),
    fmt(median(rps[i]!)),
    `${fmt(pairedRatio(rps[i]!, rps[ref]!) * 100)}%`,
    `${fmt(pairedRatio(p50s[ref]!, p50s[i]!) * 100)}%`,
  ]);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function printTable(table: BenchTable): void {
  const cells = [table.columns, ...table.rows.map((r) => r.map(String))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(`\n### ${table.title}`);
  if (table.note) console.log(`\n${table.note}`);
  console.log("");
  console.log(line(table.columns));
  console.log(`|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `-${"-".repeat(w)}:`)).join("|")}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}
