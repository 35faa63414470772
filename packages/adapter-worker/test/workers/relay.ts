// A worker thread that only relays: what the parent posts goes out on the port it was handed, and
// back. Puts a real thread (two structured clones) between two managers of the test process.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";

const port = workerData.port as MessagePort;
parentPort!.on("message", (value) => port.postMessage(value));
port.on("message", (value) => parentPort!.postMessage(value));
parentPort!.postMessage({ relayReady: true });
