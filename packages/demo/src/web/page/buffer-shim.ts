// @psession/mqtt still uses Node's global Buffer (MQTT 5 correlation, availability payloads, the
// JSON codec); browsers have none. Until the adapter is Buffer-free, give the page the same Buffer
// implementation MQTT.js's browser build bundles. Imported first by main.ts.
import { Buffer } from "buffer";

const global = globalThis as { Buffer?: unknown };
if (global.Buffer === undefined) global.Buffer = Buffer;
