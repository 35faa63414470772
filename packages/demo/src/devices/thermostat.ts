// The thermostat: a new setpoint takes a while to reach, so it reports progress (each progress
// message restarts the controller's timeout) and stops when the controller cancels.
import { SimulatedDevice } from "../device.js";
import { pause } from "../pause.js";

/** Time per 0.5 °C step. */
export const HEATING_STEP_MS = 40;

export interface Thermostat {
  device: SimulatedDevice;
  readonly temperature: number;
  /** Called when a cancel reaches the handler: the temperature then, and when (performance.now()). */
  onCancelled: ((temperature: number, at: number) => void) | undefined;
}

export function createThermostat(url: string, v5: boolean, say: (text: string) => void): Thermostat {
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
        say(`heating from ${temperature} °C to ${target} °C in 0.5 °C steps of ${HEATING_STEP_MS} ms`);
        while (temperature < target) {
          await pause(HEATING_STEP_MS, session.signal);
          if (session.signal.aborted) {
            const at = performance.now();
            say(`handler saw the cancel at ${temperature} °C: heating stopped`);
            thermostat.onCancelled?.(temperature, at);
            publishState("cancelled");
            return; // dropped: the controller asked for nothing more
          }
          temperature = Math.min(target, temperature + 0.5);
          const progress = Math.round(((temperature - from) / (target - from)) * 100);
          session.progress({ local_temperature: temperature, running_state: "heat", progress });
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
