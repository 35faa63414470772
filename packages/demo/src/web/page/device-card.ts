// One device on the page: online or offline (a word, not only a colour), last seen, quick commands,
// a JSON command box, the device's questions (the lamp's password), a progress bar, its answers.
import { ago, h } from "./dom.js";

export interface QuickCommand {
  label: string;
  message: Record<string, unknown>;
}

export class DeviceCard {
  readonly element: HTMLElement;
  private readonly availability: HTMLElement;
  private readonly lastSeen: HTMLElement;
  private readonly prompt: HTMLFormElement;
  private readonly question: HTMLLabelElement;
  private readonly answer: HTMLInputElement;
  private readonly progress: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly progressText: HTMLElement;
  private readonly reply: HTMLElement;
  private readonly report: HTMLElement;
  private seen: number | undefined;
  private pending: ((answer: string | undefined) => void) | undefined;

  constructor(
    readonly name: string,
    quick: readonly QuickCommand[],
    run: (message: Record<string, unknown>) => void,
  ) {
    const id = `device-${name}`;
    this.availability = h("span", { class: "availability unknown", role: "status" }, "unknown");
    this.lastSeen = h("p", { class: "last-seen" }, "not heard from yet");

    const buttons = quick.map(({ label, message }) => {
      const button = h("button", { type: "button", title: JSON.stringify(message) }, label);
      button.addEventListener("click", () => run(message));
      return button;
    });

    const input = h("input", {
      id: `${id}-command`,
      class: "command-input",
      value: '{"get":"state"}',
      spellcheck: "false",
      autocomplete: "off",
    });
    const error = h("span", { class: "error", role: "alert" });
    const form = h(
      "form",
      { class: "command" },
      h("label", { for: input.id }, "Command (JSON)"),
      input,
      h("button", { type: "submit" }, "Send"),
      error,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        const message = JSON.parse(input.value) as unknown;
        if (typeof message !== "object" || message === null || Array.isArray(message)) throw new Error("a JSON object");
        run(message as Record<string, unknown>);
      } catch {
        error.textContent = 'Not a JSON object: type one, such as {"get":"state"}.';
      }
    });

    this.question = h("label", { for: `${id}-answer` });
    this.answer = h("input", { id: `${id}-answer`, type: "password", autocomplete: "off" });
    const dismiss = h("button", { type: "button" }, "Dismiss");
    this.prompt = h(
      "form",
      { class: "prompt", hidden: true },
      this.question,
      this.answer,
      h("button", { type: "submit" }, "Answer"),
      dismiss,
    );
    this.prompt.addEventListener("submit", (event) => {
      event.preventDefault();
      this.settlePrompt(this.answer.value);
    });
    dismiss.addEventListener("click", () => this.settlePrompt(undefined));

    this.bar = h("progress", { max: "100", value: "0", "aria-labelledby": `${id}-progress` });
    this.progressText = h("span", { id: `${id}-progress` });
    this.progress = h("div", { class: "progress", hidden: true }, this.bar, this.progressText);
    this.reply = h("p", { class: "reply", "aria-live": "polite" });
    this.report = h("p", { class: "report", "aria-live": "polite" });

    this.element = h(
      "article",
      { class: "device", id, "data-device": name, "aria-labelledby": `${id}-name` },
      h("header", {}, h("h3", { id: `${id}-name` }, name), this.availability),
      this.lastSeen,
      h("div", { class: "quick" }, ...buttons),
      form,
      this.prompt,
      this.progress,
      this.reply,
      this.report,
    );
  }

  setAvailability(online: boolean, lastSeen: number): void {
    const word = online ? "online" : "offline";
    if (this.availability.textContent !== word) {
      this.availability.textContent = word;
      this.availability.className = `availability ${word}`;
    }
    this.seen = lastSeen;
    this.tick();
  }

  /** Refreshes "last seen …" (called every second). */
  tick(): void {
    if (this.seen === undefined) return;
    this.lastSeen.textContent = `last seen ${ago(this.seen)}`;
    this.lastSeen.title = new Date(this.seen).toLocaleString();
  }

  /** Asks the person in the page; resolves with the answer, or undefined when dismissed or closed. */
  ask(question: string): Promise<string | undefined> {
    this.settlePrompt(undefined);
    this.question.textContent = question;
    this.answer.value = "";
    this.prompt.hidden = false;
    this.answer.focus();
    return new Promise((resolve) => {
      this.pending = resolve;
    });
  }

  /** Closes an open question (its session ended meanwhile). */
  closePrompt(): void {
    this.settlePrompt(undefined);
  }

  private settlePrompt(answer: string | undefined): void {
    const pending = this.pending;
    this.pending = undefined;
    this.prompt.hidden = true;
    pending?.(answer);
  }

  showProgress(percent: number, text: string): void {
    this.progress.hidden = false;
    this.bar.value = Math.max(0, Math.min(100, percent));
    this.progressText.textContent = `${Math.round(this.bar.value)} % (${text})`;
  }

  showReply(text: string): void {
    this.reply.textContent = text;
  }

  showReport(text: string): void {
    this.report.textContent = text;
  }
}
