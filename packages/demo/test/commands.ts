// The root README's "Try it" commands, and a way to run one as a person would: `sh -c`, from the
// repository root, in its own process group so a hung run can be killed whole.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

export const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The "Try it" section of the root README. */
export function tryItSection(): string {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const start = readme.indexOf("## Try it");
  if (start < 0) throw new Error('the root README has no "## Try it" section');
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Every line of the section's ```sh blocks. */
export function shellLines(section: string): string[] {
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n").filter((l) => l.trim()));
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  running.clear();
});

/** Runs `command` with `sh -c` at the repository root; stdout and stderr interleaved in `output`. */
export function run(command: string, env: NodeJS.ProcessEnv, timeout = 60_000): Promise<Run> {
  const started = performance.now();
  const child = spawn("sh", ["-c", command], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += `\n[test] killed after ${timeout} ms`;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeout);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, output, ms: performance.now() - started });
    });
  });
}

/** The environment of a run: this one's, less MQTT_URL unless given. */
export function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.MQTT_URL === undefined) delete env.MQTT_URL;
  return env;
}
