// The hostile-peer tests' processes, shared by every server-side adapter (issue 14, and issue 8
// item 6): an adapter's psession server (its fixtures/hostile-server.ts) in its own process
// (`node --import tsx`, run from the repository root so that tsconfig paths resolve "psession" and
// "@psession/*" to the sources), what the tests ask it over IPC, and flooding peers (its
// fixtures/flooder.ts). Every process is killed after its test.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));

export interface Memory {
  rss: number;
  external: number;
  arrayBuffers: number;
  heapUsed: number;
}

export interface ServerStats {
  /** Errors reported on the manager's "error" event, by code (or name). */
  errors: Record<string, number>;
  /** Requests the handler answered. */
  handled: number;
  /** Open connections. */
  connections: number;
  ports: number;
}

export interface ServerOptions {
  /** net only: its framing. */
  framing?: "ndjson" | "length-prefix";
  highWaterMark?: number;
  backpressureTimeout?: number;
  /** Characters of padding in every answer. */
  pad?: number;
}

export interface ServerProcess {
  port: number;
  memory(): Promise<Memory>;
  stats(): Promise<ServerStats>;
  /** Resolves if the process exits (it should not). */
  readonly exited: Promise<number | null>;
}

export interface HostileProcesses {
  startServer(options?: ServerOptions): Promise<ServerProcess>;
  /**
   * `connections` hostile peers in their own process, flooding the server on `port` with garbage or
   * with valid requests they never care about, until `stop()`.
   */
  startFlooder(mode: "garbage" | "useless", port: number, connections: number): Promise<{ stop(): Promise<void> }>;
}

/** The processes of the adapter whose fixtures (hostile-server.ts, flooder.ts) are in `fixtures`. Call it at a test file's top level. */
export function hostileProcesses(fixtures: URL): HostileProcesses {
  const script = fileURLToPath(new URL("./hostile-server.ts", fixtures));
  const flooderScript = fileURLToPath(new URL("./flooder.ts", fixtures));
  const children = new Set<ChildProcess>();
  afterEach(async () => {
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill();
          }),
      ),
    );
    children.clear();
  });

  async function startServer(options: ServerOptions = {}): Promise<ServerProcess> {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, HOSTILE_OPTIONS: JSON.stringify(options) },
    });
    children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const ask = <T>(type: string): Promise<T> =>
      new Promise((resolve, reject) => {
        const onMessage = (reply: { type: string }) => {
          if (reply.type !== type) return;
          child.off("message", onMessage);
          resolve(reply as T);
        };
        child.on("message", onMessage);
        child.send({ type }, (error) => error && reject(error));
      });
    const port = await Promise.race([
      new Promise<number>((resolve) => {
        const onReady = (m: { type: string; port: number }) => {
          if (m.type !== "ready") return;
          child.off("message", onReady);
          resolve(m.port);
        };
        child.on("message", onReady);
      }),
      exited.then((code) => Promise.reject(new Error(`the server process exited (${code}) before listening`))),
    ]);
    return { port, memory: () => ask<Memory>("memory"), stats: () => ask<ServerStats>("stats"), exited };
  }

  /**
   * `connections` hostile peers (fixtures/flooder.ts) in their own process, flooding the server on
   * `port` with garbage or with valid requests they never care about, until `stop()`.
   */
  async function startFlooder(
    mode: "garbage" | "useless",
    port: number,
    connections: number,
  ): Promise<{ stop(): Promise<void> }> {
    const child = spawn(process.execPath, ["--import", "tsx", flooderScript, mode, String(port), String(connections)], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.add(child);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await Promise.race([
      new Promise<void>((resolve) => child.once("message", () => resolve())),
      exited.then(() => Promise.reject(new Error("the flooder exited before flooding"))),
    ]);
    return {
      async stop() {
        child.disconnect(); // it resets its connections and exits
        await exited;
      },
    };
  }

  return { startServer, startFlooder };
}

export const MiB = 1024 * 1024;
