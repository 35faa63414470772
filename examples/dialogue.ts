// Two managers hold a multi-turn dialogue over an in-memory transport:
// "turn on the light" → "needPassword" → password → "ok".
import { SessionManager, attach, createMemoryTransportPair } from "psession";

const [controllerEnd, lampEnd] = createMemoryTransportPair();
const controller = new SessionManager({ sessionTimeout: 2000 });
const lamp = new SessionManager({ sessionTimeout: 2000 });

// Every message on the wire, as the transcript.
const log = (arrow: string) => (message: unknown) => console.log(`  ${arrow}  ${JSON.stringify(message)}`);
controllerEnd.onMessage(log("controller ← lamp"));
lampEnd.onMessage(log("controller → lamp"));

attach(controller, controllerEnd, { role: "client" });
attach(lamp, lampEnd, { role: "server" });

// The lamp answers each session the controller opens; a session can hold several turns.
lamp.handle(async (request, session) => {
  if (request.command !== "turnOnLight") return { status: "unknownCommand" };
  const answer = await session.send({ status: "needPassword" });
  return answer.password === "123456" ? { status: "ok", light: "on" } : { status: "denied" };
});

console.log("psession dialogue demo (in-memory transport)\n");
const session = controller.createSession();
try {
  const first = await session.send({ command: "turnOnLight" });
  if (first.status === "needPassword") {
    const result = await session.send({ password: "123456" });
    console.log(`\nresult: light is ${result.light} (status ${result.status}, session ${session.id})`);
  }
} finally {
  session.end();
}

// The same dialogue with a wrong password, and a command the lamp does not know.
const wrong = controller.createSession();
await wrong.send({ command: "turnOnLight" });
console.log(`wrong password → ${(await wrong.send({ password: "000000" })).status}`);
wrong.end();
console.log(`unknown command → ${(await controller.request({ command: "fly" })).status}`);
controllerEnd.close();
