// The lamp: turning it on is a dialogue ("ON" → "needPassword" → password → "ok"), and its radio
// can lose an answer, so the controller's retry reaches it a second time.
import type { MqttClient } from "mqtt";
import { SimulatedDevice } from "../device.js";

export const LAMP_PASSWORD = "123456";

export interface Lamp {
  device: SimulatedDevice;
  readonly state: "ON" | "OFF";
  /** How many times a TOGGLE ran the lamp's handler. */
  readonly toggles: number;
  /** How many TOGGLE messages reached the lamp (a retry is a second one). */
  readonly toggleDeliveries: number;
  /** The radio drops the lamp's next answer (a weak link), once. */
  loseNextAnswer(): void;
}

export function createLamp(url: string, v5: boolean, say: (text: string) => void): Lamp {
  let state: "ON" | "OFF" = "OFF";
  let toggles = 0;
  let toggleDeliveries = 0;
  let losing = false;

  const device = new SimulatedDevice({
    name: "lamp",
    url,
    v5,
    say,
    async handler(request, session) {
      if (request.get === "state") return { state, brightness: state === "ON" ? 254 : 0 };
      if (request.state === "ON") {
        say("asked to turn ON: a password first");
        // The same session, a second turn; in the browser console a person types it: give them a minute.
        const answer = await session.send({ status: "needPassword" }, { timeout: 60_000 }).catch((error: Error) => {
          say(`no password came: ${error.name} (the controller ended the session); stays ${state}`);
          throw error;
        });
        if (answer.password !== LAMP_PASSWORD) {
          say("wrong password: stays OFF");
          return { status: "denied", state };
        }
        state = "ON";
        say("password accepted: the light is ON");
        return { status: "ok", state };
      }
      if (request.state === "TOGGLE") {
        toggles++;
        state = state === "ON" ? "OFF" : "ON";
        say(`toggle handler ran (run #${toggles}): the light is ${state}`);
        return { state };
      }
      if (request.state === "OFF") {
        state = "OFF";
        return { status: "ok", state };
      }
      return { status: "unknownCommand" };
    },
    prepare(client: MqttClient) {
      const answers = device.topics.publish;
      client.on("message", (topic, payload) => {
        if (topic === device.topics.subscribe && payload.toString().includes('"TOGGLE"')) toggleDeliveries++;
      });
      // The radio between the lamp and the broker: when told to, it loses the next answer.
      const send = client.publish.bind(client);
      client.publish = ((topic: string, payload: string | Buffer, options: object, callback?: () => void) => {
        if (losing && topic === answers) {
          losing = false;
          say(`radio interference: the answer ${payload.toString()} never reached the broker`);
          callback?.();
          return client;
        }
        return send(topic, payload, options, callback);
      }) as MqttClient["publish"];
    },
  });

  return {
    device,
    get state() {
      return state;
    },
    get toggles() {
      return toggles;
    },
    get toggleDeliveries() {
      return toggleDeliveries;
    },
    loseNextAnswer() {
      losing = true;
    },
  };
}
