// `pnpm demo`: the transcript demo. `pnpm demo --web`: the browser device console, until Ctrl-C.
// MQTT_URL points either at a broker of your own (MQTT 5; --web also needs MQTT_WS_URL, its
// WebSocket listener); without it the demo starts an embedded broker.
import { runDemo } from "./demo.js";
import { startWebConsole } from "./web/console.js";

const url = process.env.MQTT_URL || undefined;

if (process.argv.includes("--web")) {
  const web = await startWebConsole({ url, wsUrl: process.env.MQTT_WS_URL || undefined });
  console.log("open it in a browser; Ctrl-C stops the console, the devices and the broker");
  const stop = async () => {
    await web.close();
    console.log("stopped");
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} else {
  // A demo that hangs is a failed demo: give up loudly instead (unref'd: it never keeps us alive).
  setTimeout(() => {
    console.error("demo FAILED: still running after 60 s");
    process.exit(1);
  }, 60_000).unref();
  process.exitCode = await runDemo({ url });
}
