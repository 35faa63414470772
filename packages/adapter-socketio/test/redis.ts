// A private redis-server for the cluster tests: started on a free loopback port with no
// persistence, owned and stopped by the test. Without the binary the tests skip with this reason
// printed (scripts/test.mjs turns a skip into a failure under CI).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";

export function findRedisServer(): string | undefined {
  const candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, "redis-server"));
  return candidates.find((path) => existsSync(path));
}

const binary = findRedisServer();

/** Why the Redis tests cannot run here, or undefined when they can. */
export const redisMissing =
  binary === undefined
    ? "redis-server is not installed (Debian: apt-get install -y redis-server); the Socket.IO cluster tests are skipped"
    : undefined;
if (redisMissing !== undefined) console.warn(`[@psession/socketio] ${redisMissing}`);

export interface PrivateRedis {
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRedis(): Promise<PrivateRedis> {
  if (binary === undefined) throw new Error(redisMissing);
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => void (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => void (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const end = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
