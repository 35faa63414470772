// Running one command from the page: a session toward the device, its progress on the card, the
// device's questions put to the person (the answer goes back in the same session), the outcome in
// the log. The same Controller as the transcript demo, running in the browser.
import type { Message } from "psession";
import type { Controller } from "../../controller.js";
import { fields, ms } from "../../format.js";
import { type Outcome, outcomeOf } from "../../outcomes.js";
import type { DeviceCard, QuickCommand } from "./device-card.js";
import type { SessionLog } from "./session-log.js";

/** What each known device offers as buttons; any device also has the JSON box. */
export const QUICK_COMMANDS: Record<string, QuickCommand[]> = {
  lamp: [
    { label: "Turn on (asks for a password)", message: { state: "ON" } },
    { label: "Toggle", message: { state: "TOGGLE" } },
    { label: "Read state", message: { get: "state" } },
  ],
  thermostat: [
    { label: "Heat to 24 °C", message: { current_heating_setpoint: 24 } },
    { label: "Heat to 30 °C", message: { current_heating_setpoint: 30 } },
    { label: "Cool to 18 °C", message: { current_heating_setpoint: 18 } },
    { label: "Read state", message: { get: "state" } },
  ],
  plug: [
    { label: "Switch on (trips its fuse)", message: { state: "ON" } },
    { label: "Read state", message: { get: "state" } },
  ],
};

/** How the log names each outcome. */
const LABELS: Record<Outcome, string> = {
  answered: "reply",
  timeout: "timeout",
  cancelled: "cancelled",
  offline: "offline",
  aborted: "aborted",
  failed: "error",
};

export async function runCommand(
  controller: Controller,
  card: DeviceCard,
  log: SessionLog,
  message: Message,
  measured: () => void,
): Promise<void> {
  const device = card.name;
  const session = controller.manager.createSession(device);
  // A pending send is cancelled (SessionCancelError); a session waiting for the person has none, so
  // it is ended, which tells the device too (its handler's own pending send fails).
  const entry = log.add(device, JSON.stringify(message), () => (session.pending ? session.cancel() : session.abort()));
  const offEnd = session.on("end", () => card.closePrompt());
  const onProgress = (progress: Message) => {
    const percent = typeof progress.progress === "number" ? progress.progress : 0;
    const { progress: _, ...rest } = progress;
    const text =
      typeof rest.local_temperature === "number" ? `${rest.local_temperature} °C, ${rest.running_state}` : fields(rest);
    card.showProgress(percent, text);
    entry.update("running", `progress ${percent} %: ${text}`);
  };
  try {
    let answer = await controller.send(session, message, { onProgress });
    while (answer.reply.status === "needPassword") {
      entry.update("waiting for you", `${device} asks for its password`);
      const password = await card.ask(`${device} asks for its password:`);
      if (password === undefined) {
        const why = session.ended ? "cancelled while the device waited for an answer" : "you dismissed the question";
        session.abort();
        entry.settle("cancelled", why);
        card.showReply(`cancelled: ${why}`);
        return;
      }
      entry.update("running", "password sent in the same session");
      answer = await controller.send(session, { password }, { onProgress });
    }
    entry.settle("reply", fields(answer.reply), answer.ms);
    card.showReply(`answered ${fields(answer.reply)} in ${ms(answer.ms)}`);
  } catch (error) {
    const outcome = LABELS[outcomeOf(error)];
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    entry.settle(outcome, text);
    card.showReply(`${outcome}: ${text}`);
  } finally {
    offEnd();
    session.end();
    measured();
  }
}
