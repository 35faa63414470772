// `pnpm demo` (and, with --web, the browser device console): MQTT_URL points it at a broker of
// your own (MQTT 5); without it the demo starts an embedded broker.
import { runDemo } from "./demo.js";

const url = process.env.MQTT_URL || undefined;
// A demo that hangs is a failed demo: give up loudly instead (unref'd: it never keeps us alive).
setTimeout(() => {
  console.error("demo FAILED: still running after 60 s");
  process.exit(1);
}, 60_000).unref();
process.exitCode = await runDemo({ url });
