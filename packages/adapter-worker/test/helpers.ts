// Real worker_threads for every test: fixture scripts under test/workers are bundled from the
// sources with esbuild and run with `eval`; every worker and manager a test opens is ended after it.
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { SessionManager, type SessionManagerOptions } from "psession";
import { afterEach } from "vitest";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const bundles = new Map<string, Promise<string>>();

/** The fixture `test/workers/<name>.ts` as one CommonJS script. */
export function bundle(name: string): Promise<string> {
  let code = bundles.get(name);
  if (code === undefined) {
    code = build({
      entryPoints: [here(`./workers/${name}.ts`)],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
      alias: {
        psession: here("../../psession-core/src/index.ts"),
        "@psession/worker": here("../src/index.ts"),
      },
    }).then((result) => result.outputFiles[0]!.text);
    bundles.set(name, code);
  }
  return code;
}

const workers = new Set<Worker>();
const managers = new Set<SessionManager>();
const cleanups: (() => unknown)[] = [];

/** Starts fixture `name` in a real worker thread. */
export async function startWorker(
  name: string,
  workerData?: unknown,
  transferList?: readonly unknown[],
): Promise<Worker> {
  const worker = new Worker(await bundle(name), {
    eval: true,
    workerData,
    transferList: transferList as never,
    stderr: true, // a crash's stack is the test's to show, not the console's
  });
  workers.add(worker);
  return worker;
}

/** A manager whose "error" events are collected in `errors`. */
export function manager(options: SessionManagerOptions = {}): { manager: SessionManager; errors: Error[] } {
  const m = new SessionManager({ sessionTimeout: 10_000, ...options });
  const errors: Error[] = [];
  m.on("error", (error) => void errors.push(error));
  managers.add(m);
  return { manager: m, errors };
}

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(5);
  }
}

/** The next plain message from a worker that `match` accepts. */
export function nextMessage<T = Record<string, unknown>>(
  worker: { on(e: "message", l: (v: unknown) => void): unknown; off(e: "message", l: (v: unknown) => void): unknown },
  match: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off("message", listener);
      reject(new Error("no such message in time"));
    }, ms);
    const listener = (value: unknown) => {
      if (typeof value !== "object" || value === null || !match(value as T)) return;
      clearTimeout(timer);
      worker.off("message", listener);
      resolve(value as T);
    };
    worker.on("message", listener);
  });
}

afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
  for (const m of managers) m.clear();
  managers.clear();
  await Promise.all([...workers].map((w) => w.terminate()));
  workers.clear();
});
