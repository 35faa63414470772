// Reads the demo's transcript back: its sections and its summary table.
import { expect } from "vitest";

/** The lines of section `n` ("2. The lamp's …" up to the next numbered heading). */
export function section(output: string, n: number): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${n}. `));
  if (start < 0) throw new Error(`the transcript has no section ${n}:\n${output}`);
  const end = lines.findIndex((line, i) => i > start && /^\d+\. /.test(line));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The summary table as rows keyed by its column titles. */
export function summaryTable(output: string): Map<string, Record<string, string>> {
  const lines = section(output, 8)
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("(") && !line.startsWith("demo finished"));
  const split = (line: string) => line.split(/ {2,}/);
  const titles = split(lines[0]!);
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(2)) {
    const cells = split(line);
    expect(cells, line).toHaveLength(titles.length);
    rows.set(cells[0]!, Object.fromEntries(titles.map((title, i) => [title, cells[i]!])));
  }
  return rows;
}

/** Milliseconds from "0.42 ms" / "302 ms" / "1 ms". */
export function millis(text: string): number {
  const match = /^([\d.]+) ms$/.exec(text);
  if (match === null) throw new Error(`not a duration: ${text}`);
  return Number(match[1]);
}

/** What every run of the demo must show, whatever the broker. */
export function expectDemoTranscript(output: string): void {
  // Devices come online through their retained availability.
  for (const device of ["lamp", "thermostat", "plug"]) {
    expect(section(output, 1).join("\n")).toMatch(
      new RegExp(`broker → controller +${device} is online \\(retained\\)`),
    );
  }

  // The dialogue: ON → needPassword → password → ok, in one session.
  const dialogue = section(output, 2).join("\n");
  expect(dialogue).toMatch(/controller → lamp +\{"state":"ON","sid":1,"\$turn":1\}/);
  expect(dialogue).toMatch(/lamp → controller +\{"status":"needPassword","sid":1,"\$re":1\}/);
  expect(dialogue).toMatch(/controller → lamp +\{"password":"123456","sid":1,"\$turn":2,"\$re":1\}/);
  expect(dialogue).toMatch(/lamp → controller +\{"status":"ok","state":"ON","sid":1,"\$re":2\}/);
  expect(dialogue).toMatch(/lamp answered \{"status":"ok","state":"ON"\} in [\d.]+ ms/);

  // Round trips are printed per device.
  for (const device of ["lamp", "thermostat", "plug"]) {
    expect(section(output, 3).join("\n")).toMatch(new RegExp(`${device}: p50 [\\d.]+ ms, p99 [\\d.]+ ms`));
  }

  // The retry: two attempts on the wire, one run of the handler, one answer replayed.
  const retry = section(output, 4).join("\n");
  expect(retry).toMatch(/controller → lamp +\{"state":"TOGGLE","sid":\d+,"\$turn":\d+,"\$try":1\}/);
  expect(retry).toMatch(/never reached the broker/);
  expect(retry).toMatch(/controller → lamp +\{"state":"TOGGLE","sid":\d+,"\$turn":\d+,"\$try":2\}/);
  expect(retry.match(/toggle handler ran/g)).toHaveLength(1);
  const deliveries = /TOGGLE reached the lamp (\d+) times; its handler ran 1 time; the light is OFF/.exec(retry);
  expect(deliveries, retry).not.toBeNull();
  // Two deliveries (three only if a loaded machine stalled an attempt past its 300 ms): one run either way.
  const toggleRetries = Number(deliveries![1]) - 1;
  expect(toggleRetries).toBeGreaterThanOrEqual(1);

  // Progress: eight messages on the wire and eight onProgress calls, then the answer.
  const progress = section(output, 5);
  expect(progress.filter((l) => /thermostat → controller .*"\$progress":true/.test(l))).toHaveLength(8);
  expect(progress.filter((l) => /onProgress: [\d.]+ °C/.test(l))).toHaveLength(8);
  expect(progress.join("\n")).toMatch(
    /thermostat answered \{"local_temperature":24,.*after [\d.]+ ms and 8 progress messages/,
  );

  // Cancel: the notice on the wire, and the device's handler saw it.
  const cancel = section(output, 6).join("\n");
  expect(cancel).toMatch(/controller → thermostat +\{"sid":\d+,"\$cancel":"SessionCancelError"/);
  expect(cancel).toMatch(/the send rejected at once with SessionCancelError/);
  expect(cancel).toMatch(/thermostat \(device\) +handler saw the cancel at [\d.]+ °C/);
  expect(cancel).toMatch(/the cancel reached the thermostat's handler [\d.]+ ms after cancel\(\)/);
  // …and the device said so itself, on its state topic, outside the session.
  expect(cancel).toMatch(
    /thermostat → controller +\{"local_temperature":[\d.]+,.*"running_state":"idle","event":"cancelled"\}/,
  );

  // The plug: its Last Will, its pending command failing long before the timeout, then at once.
  const plug = section(output, 7).join("\n");
  expect(plug).toMatch(/broker → controller +plug is offline/);
  const lost = /the command rejected after ([\d.]+ ms)/.exec(plug);
  expect(lost).not.toBeNull();
  expect(millis(lost![1]!)).toBeLessThan(5000);
  expect(plug).toMatch(/SessionAbortError: device "plug" went offline/);
  expect(plug).toMatch(/a new command to the plug rejected in [\d.]+ ms: SessionChannelError OFFLINE/);

  // The table: psession's statistics of the controller's port for each device.
  const table = summaryTable(output);
  expect([...table.keys()]).toEqual(["lamp", "thermostat", "plug"]);
  const column = (title: string) => [...table.values()].map((row) => row[title]);
  expect(column("availability")).toEqual(["online", "online", "offline"]);
  expect(column("port")).toEqual(["attached", "attached", "attached"]);
  // An offline device's port is still attached: the transcript says what that means.
  expect(output).toMatch(
    /\(port: psession's port for the device; it stays attached while the device is offline: sends fail at once, OFFLINE\)/,
  );
  // lamp: 2 dialogue turns + 30 reads + 1 toggle; thermostat: 30 reads + heat + the cancelled one;
  // plug: 30 reads + the command it lost power in + the one refused as OFFLINE.
  expect(column("commands")).toEqual(["33", "32", "32"]);
  expect(column("replies")).toEqual(["33", "31", "30"]);
  // The lamp's one retry; the plug's OFFLINE command (retryCount 3) fails at once: OFFLINE is final, never retried.
  expect(column("retries")).toEqual([String(toggleRetries), "0", "0"]);
  expect(column("timeouts")).toEqual(["0", "0", "0"]);
  expect(column("cancelled")).toEqual(["0", "1", "0"]);
  expect(column("aborted")).toEqual(["0", "0", "1"]);
  expect(column("failed")).toEqual(["0", "0", "1"]);
  for (const row of table.values()) {
    expect(millis(row.p50!)).toBeGreaterThanOrEqual(0);
    expect(millis(row.p99!)).toBeGreaterThanOrEqual(millis(row.p50!));
  }
  // The retried toggle waited one 300 ms attempt: it is the lamp's slowest round trip.
  expect(millis(table.get("lamp")!.p99!)).toBeGreaterThanOrEqual(300);

  expect(output).toMatch(/demo finished: every step behaved as described\./);
}

/** The demo's own clock at its last stamped line, seconds. */
export function lastStamp(output: string): number {
  const stamps = [...output.matchAll(/^\[ *([\d.]+) s\]/gm)].map((m) => Number(m[1]));
  return stamps.at(-1) ?? Number.NaN;
}
