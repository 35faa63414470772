// The thermostat: a new setpoint takes a while to reach, so it reports progress (each progress
// message restarts the controller's timeout) and stops when the controller cancels. When it stops
// it publishes its state outside any session, as Zigbee2MQTT devices do.
import { SimulatedDevice } from "../device.js";
import { pause } from "../pause.js";

/** Time per 0.5 °C step in the transcript demo (the browser console goes slower, for people). */
export const HEATING_STEP_MS = 40;

export interface Thermostat {
  device: SimulatedDevice;
  readonly temperature: number;
  /** Called when a cancel reaches the handler: the temperature then, and when (performance.now()). */
  onCancelled: ((temperature: number, at: number) => void) | undefined;
}

export function createThermostat(
  url: string,
  v5: boolean,
  say: (text: string) => void,
  stepMs = HEATING_STEP_MS,
): Thermostat {
  let temperature = 20;
  let setpoint = 20;
  const thermostat: Thermostat = {
    device: new SimulatedDevice({
      name: "thermostat",
      url,
      v5,
      say,
      async handler(request, session) {
        if (request.get === "state") return { local_temperature: temperature, current_heating_setpoint: setpoint };
        const target = request.current_heating_setpoint;
        if (typeof target !== "number" || !(target >= 5 && target <= 35)) return { status: "badSetpoint" };
        setpoint = target;
        const from = temperature;
        const step = target > from ? 0.5 : -0.5;
        const running = step > 0 ? "heat" : "cool";
        if (target !== from) say(`${running}ing from ${from} °C to ${target} °C in 0.5 °C steps of ${stepMs} ms`);
        while (temperature !== target) {
          await pause(stepMs, session.signal);
          if (session.signal.aborted) {
            const at = performance.now();
            say(`handler saw the cancel at ${temperature} °C: ${running}ing stopped`);
            thermostat.onCancelled?.(temperature, at);
            publishState("cancelled");
            return; // dropped: the controller asked for nothing more
          }
          temperature = step > 0 ? Math.min(target, temperature + step) : Math.max(target, temperature + step);
          const progress = Math.round(((temperature - from) / (target - from)) * 100);
          session.progress({ local_temperature: temperature, running_state: running, progress });
        }
        return { local_temperature: temperature, current_heating_setpoint: setpoint, running_state: "idle" };
      },
    }),
    get temperature() {
      return temperature;
    },
    onCancelled: undefined,
  };

  /** Its state, outside any session, where Zigbee2MQTT devices publish theirs (`<base>/<device>`). */
  function publishState(event: string): void {
    const state = { local_temperature: temperature, current_heating_setpoint: setpoint, running_state: "idle", event };
    thermostat.device.client?.publish(thermostat.device.topics.publish, JSON.stringify(state), { qos: 1 });
  }
  return thermostat;
}
