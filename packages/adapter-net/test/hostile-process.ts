// This adapter's hostile-peer processes: the shared harness (@psession/conformance) over ./fixtures.
import { hostileProcesses } from "@psession/conformance";

export { MiB, type ServerProcess } from "@psession/conformance";
export const { startServer, startFlooder } = hostileProcesses(new URL("./fixtures/", import.meta.url));
