// The log of sessions: one row per command, newest first, with its outcome (reply, timeout,
// offline, cancelled, error) and round trip; a running session has a Cancel button.
import { h } from "./dom.js";

export class LogEntry {
  readonly row: HTMLTableRowElement;
  private readonly outcome: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly roundTrip: HTMLElement;
  private readonly actions: HTMLElement;

  constructor(number: number, device: string, command: string, cancel: () => void) {
    this.outcome = h("td", { class: "outcome" }, "running");
    this.detail = h("td", { class: "detail" });
    this.roundTrip = h("td", { class: "round-trip" });
    const button = h("button", { type: "button", "aria-label": `Cancel session ${number} (${device})` }, "Cancel");
    button.addEventListener("click", cancel);
    this.actions = h("td", {}, button);
    this.row = h(
      "tr",
      { "data-device": device, "data-outcome": "running" },
      h("td", {}, String(number)),
      h("td", {}, new Date().toLocaleTimeString()),
      h("td", {}, device),
      h("td", { class: "command" }, h("code", {}, command)),
      this.outcome,
      this.detail,
      this.roundTrip,
      this.actions,
    );
  }

  /** Still running: what it waits for now. */
  update(outcome: string, detail = ""): void {
    this.outcome.textContent = outcome;
    this.detail.textContent = detail;
  }

  /** Ended: its outcome for good, the Cancel button goes. */
  settle(outcome: string, detail: string, roundTrip?: number): void {
    this.row.dataset.outcome = outcome;
    this.outcome.textContent = outcome;
    this.detail.textContent = detail;
    if (roundTrip !== undefined) this.roundTrip.textContent = `${roundTrip.toFixed(roundTrip < 10 ? 2 : 0)} ms`;
    const focused = this.actions.contains(document.activeElement);
    this.actions.replaceChildren();
    // Keep keyboard users in the table when the button they pressed goes away.
    if (focused) this.row.closest("table")?.focus();
  }

  /** Adds what the device said about this session afterwards. */
  append(text: string): void {
    const before = this.detail.textContent ?? "";
    this.detail.textContent = before === "" ? text : `${before}. ${text}`;
  }
}

export class SessionLog {
  private count = 0;
  private readonly latest = new Map<string, LogEntry>();

  constructor(private readonly body: HTMLTableSectionElement) {}

  add(device: string, command: string, cancel: () => void): LogEntry {
    const entry = new LogEntry(++this.count, device, command, cancel);
    this.body.prepend(entry.row);
    this.latest.set(device, entry);
    return entry;
  }

  /** The newest session of `device`. */
  latestOf(device: string): LogEntry | undefined {
    return this.latest.get(device);
  }
}
