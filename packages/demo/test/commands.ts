// The root README's "Try it" commands, and a way to run one as a person would: `sh -c`, from the
// repository root, in its own process group so a hung run can be killed whole (and is, at the
// latest after the test file).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

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
/** Kills whatever a test left running (its whole process group). */
export function killAll(): void {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}
afterAll(killAll);

/** A command running with `sh -c` at the repository root; stdout and stderr interleaved in `output`. */
export class Running {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly started = performance.now();

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn("sh", ["-c", command], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(this.child);
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      }),
    );
  }

  get ms(): number {
    return performance.now() - this.started;
  }

  /** Resolves with the first match of `pattern` in the output; rejects after `timeout` or at exit. */
  async waitFor(pattern: RegExp, timeout = 60_000): Promise<RegExpExecArray> {
    const until = performance.now() + timeout;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (exited || performance.now() > until) {
        throw new Error(`${pattern} not in the output${exited ? " (the command exited)" : ""}:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` to the whole process group (sh, pnpm, node), as Ctrl-C does to a terminal's. */
  signal(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, signal);
    } catch {
      // the group is gone already
    }
  }
}

/** Runs `command` to its end (killed after `timeout`). */
export async function run(command: string, env: NodeJS.ProcessEnv, timeout = 60_000): Promise<Run> {
  const started = new Running(command, env);
  const timer = setTimeout(() => {
    started.output += `\n[test] killed after ${timeout} ms`;
    started.signal("SIGKILL");
  }, timeout);
  const { code, signal } = await started.exited;
  clearTimeout(timer);
  return { code, signal, output: started.output, ms: started.ms };
}

/** The environment of a run: this one's, less MQTT_URL unless given. */
export function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.MQTT_URL === undefined) delete env.MQTT_URL;
  return env;
}
