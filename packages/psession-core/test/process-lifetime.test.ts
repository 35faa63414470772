// An idle manager must never keep a Node process alive; a pending send keeps it alive until it settles.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const core = fileURLToPath(new URL("../src/index.ts", import.meta.url));

function runScript(body: string) {
  const script = `import { SessionManager, attach, createMemoryTransportPair } from ${JSON.stringify(core)};\n${body}`;
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 15_000,
  });
  return { ...result, ms: Date.now() - started };
}

test("a manager that answered its requests lets the process exit at once (timeouts of 60 s and 10 min pending nothing)", () => {
  const r = runScript(`
    const [a, b] = createMemoryTransportPair();
    const client = new SessionManager({ sessionTimeout: 60000, sessionMaxLife: 600000 });
    const server = new SessionManager();
    attach(client, a, { role: "client" });
    attach(server, b, { role: "server" });
    server.handle((m) => ({ ok: m.n }));
    const live = client.createSession(); // an idle session stays open: it must not hold the process either
    for (let n = 0; n < 100; n++) await client.request({ n });
    console.log("done", live.id);
  `);
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe("done 1");
  expect(r.status).toBe(0);
  expect(r.ms).toBeLessThan(10_000); // well under the 60 s timeout: nothing held the loop
});

test("a pending send keeps the process alive until its timeout, then it exits", () => {
  const r = runScript(`
    const m = new SessionManager({ sender: () => {}, sessionTimeout: 300 });
    const t = Date.now();
    m.request({ q: 1 }).catch((e) => console.log(e.name, Date.now() - t >= 290));
  `);
  expect(r.stdout.trim()).toBe("SessionTimeoutError true");
  expect(r.status).toBe(0);
});
