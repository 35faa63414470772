// The control script: what the controller does to the three devices, section by section. Every
// figure printed is measured as it happens; a device that does not behave as described stops the
// demo with exit code 1 (the demo's test relies on it).
import { type Message, SessionAbortError, SessionChannelError, type SessionError } from "psession";
import type { Controller } from "./controller.js";
import { LAMP_PASSWORD, type Lamp } from "./devices/lamp.js";
import { PLUG_FAILS_AFTER_MS, type Plug } from "./devices/plug.js";
import type { Thermostat } from "./devices/thermostat.js";
import { fields, ms } from "./format.js";
import { quantile } from "./outcomes.js";
import type { Transcript } from "./transcript.js";

export interface ScriptContext {
  controller: Controller;
  lamp: Lamp;
  thermostat: Thermostat;
  plug: Plug;
  transcript: Transcript;
}

export class DemoCheckError extends Error {
  override name = "DemoCheckError";
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new DemoCheckError(what);
}

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  try {
    await promise;
  } catch (error) {
    return error as SessionError;
  }
  throw new DemoCheckError("the command was expected to fail, and it succeeded");
}

function within<T>(promise: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DemoCheckError(`${what} (waited ${timeout} ms)`)), timeout);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The lamp's light now (a call, so TypeScript does not keep an earlier comparison's narrowing). */
const light = (lamp: Lamp): string => lamp.state;

export const READS_PER_DEVICE = 30;

export async function runScript(context: ScriptContext): Promise<void> {
  const { controller, lamp, thermostat, plug, transcript: t } = context;
  const say = (text: string) => t.say("controller", text);

  t.heading("2. The lamp's password dialogue: one session, two turns");
  const dialogue = controller.manager.createSession("lamp");
  const first = await controller.send(dialogue, { state: "ON" });
  say(
    `lamp answered ${fields(first.reply)} in ${ms(first.ms)}; the password goes in the same session (sid ${dialogue.id})`,
  );
  check(first.reply.status === "needPassword", `the lamp answered ${fields(first.reply)}, not needPassword`);
  const second = await controller.send(dialogue, { password: LAMP_PASSWORD });
  dialogue.end();
  say(`lamp answered ${fields(second.reply)} in ${ms(second.ms)}: the light is ${lamp.state}`);
  check(second.reply.status === "ok" && light(lamp) === "ON", `the lamp answered ${fields(second.reply)}`);

  t.heading(`3. Round trips: ${READS_PER_DEVICE} state reads per device, one after another`);
  t.quiet = true;
  for (const device of ["lamp", "thermostat", "plug"]) {
    const times: number[] = [];
    for (let i = 0; i < READS_PER_DEVICE; i++) times.push((await controller.request(device, { get: "state" })).ms);
    say(`${device}: p50 ${ms(quantile(times, 0.5))}, p99 ${ms(quantile(times, 0.99))}, max ${ms(Math.max(...times))}`);
    if (quantile(times, 0.5) > 30) {
      say("  (near 40 ms per hop is Nagle's algorithm: mosquitto needs `set_tcp_nodelay true`)");
    }
  }
  t.quiet = false;
  say(`(${t.hiddenWireLines} publishes of these reads are not printed)`);

  t.heading("4. A retry that runs once: TOGGLE the lamp; the lamp's first answer is lost on its radio");
  lamp.loseNextAnswer();
  const toggled = await controller.request("lamp", { state: "TOGGLE" }, { timeout: 300, retryCount: 2 });
  say(`lamp answered ${fields(toggled.reply)} ${ms(toggled.ms)} after the first attempt (timeout 300 ms per attempt)`);
  say(
    `TOGGLE reached the lamp ${lamp.toggleDeliveries} times; its handler ran ${lamp.toggles} time${lamp.toggles === 1 ? "" : "s"}; ` +
      `the light is ${lamp.state} (a second run would have switched it back ON)`,
  );
  // Twice: the first attempt and its retry (a stalled machine may need a third attempt; still one run).
  check(lamp.toggleDeliveries >= 2, `TOGGLE reached the lamp ${lamp.toggleDeliveries} times, not twice`);
  check(lamp.toggles === 1 && light(lamp) === "OFF", `the lamp's toggle handler ran ${lamp.toggles} times`);

  t.heading("5. Progress: the thermostat heats to 24 °C and reports every 0.5 °C");
  const heatTimeout = 200;
  let progress = 0;
  const heated = await controller.request(
    "thermostat",
    { current_heating_setpoint: 24 },
    {
      timeout: heatTimeout,
      onProgress: (message: Message) => {
        progress++;
        say(`onProgress: ${message.local_temperature} °C`);
      },
    },
  );
  const longer =
    heated.ms > heatTimeout ? `, longer than its ${heatTimeout} ms timeout: each progress message restarted it` : "";
  say(`thermostat answered ${fields(heated.reply)} after ${ms(heated.ms)} and ${progress} progress messages${longer}`);
  check(
    heated.reply.local_temperature === 24 && progress === 8,
    `the thermostat answered ${fields(heated.reply)} after ${progress} progress messages`,
  );

  t.heading("6. Cancel: a setpoint of 30 °C, cancelled by the controller after 3 progress messages");
  // One command, one session (`once`): cancelling it ends it, so the statistics count it cancelled.
  const heating = controller.manager.createSession("thermostat", { once: true });
  let cancelledAt = 0;
  const reported = new Promise<Message>((resolve) => {
    const off = controller.manager.on("message", (message, port) => {
      const state = message as Message;
      if (port.name !== "thermostat" || state.event !== "cancelled") return;
      off();
      resolve(state);
    });
  });
  const sawCancel = new Promise<{ temperature: number; at: number }>((resolve) => {
    thermostat.onCancelled = (temperature, at) => resolve({ temperature, at });
  });
  let seen = 0;
  const cancelled = await rejection(
    controller.send(
      heating,
      { current_heating_setpoint: 30 },
      {
        timeout: 2000,
        onProgress: (message: Message) => {
          say(`onProgress: ${message.local_temperature} °C`);
          if (++seen !== 3) return;
          say("session.cancel()");
          cancelledAt = performance.now();
          heating.cancel();
        },
      },
    ),
  );
  say(`the send rejected at once with ${cancelled.name}`);
  const saw = await within(sawCancel, 2000, "the cancel did not reach the thermostat's handler");
  thermostat.onCancelled = undefined;
  say(
    `the cancel reached the thermostat's handler ${ms(saw.at - cancelledAt)} after cancel(); it stopped at ${saw.temperature} °C`,
  );
  const state = await within(reported, 2000, "the thermostat did not report its state after the cancel");
  say(`the thermostat reported its state outside the session ("message" event): ${JSON.stringify(state)}`);
  check(cancelled.name === "SessionCancelError", `the cancelled send rejected with ${cancelled.name}`);

  t.heading("7. The plug goes offline mid-command; the next command fails at once");
  const plugTimeout = 5000;
  const startedOn = performance.now();
  const lost = await rejection(controller.request("plug", { state: "ON" }, { timeout: plugTimeout }));
  const lostAfter = performance.now() - startedOn;
  const afterPowerLoss =
    plug.poweredOffAt === undefined ? "" : ` (${ms(performance.now() - plug.poweredOffAt)} after its power went)`;
  say(`the command rejected after ${ms(lostAfter)}${afterPowerLoss}, not at its ${plugTimeout} ms timeout:`);
  say(`  ${lost.name}: ${lost.message}`);
  check(lost instanceof SessionAbortError, `the plug's pending command rejected with ${lost.name}`);
  check(lostAfter < PLUG_FAILS_AFTER_MS + 2000, `the plug's pending command took ${ms(lostAfter)} to fail`);
  const startedAgain = performance.now();
  const refused = await rejection(controller.request("plug", { state: "ON" }, { timeout: plugTimeout, retryCount: 3 }));
  const code = refused instanceof SessionChannelError ? refused.code : undefined;
  say(
    `a new command to the plug rejected in ${ms(performance.now() - startedAgain)}: ${refused.name} ${code}: ${refused.message}`,
  );
  check(code === "OFFLINE", `a command to the offline plug rejected with ${refused.name} ${code}`);
}
