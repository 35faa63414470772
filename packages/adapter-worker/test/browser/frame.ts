// The page inside an iframe on another origin: it answers its parent, and only its parent's origin.
import { attach } from "@psession/worker";
import { SessionManager } from "psession";

const parentOrigin = new URLSearchParams(location.search).get("parent")!;
const manager = new SessionManager({ sessionTimeout: 10_000 });
const handle = attach(manager, window.parent, { targetOrigin: parentOrigin });
manager.handle(async (m) => ({ frame: location.origin, role: handle.role, got: m.value }));
window.parent.postMessage({ frameReady: location.origin }, parentOrigin);
