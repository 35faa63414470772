// A window or frame: posts go to the target window with a target origin; replies arrive on our own
// window as "message" events whose `source` is the target, and only allowed origins get through.
import { SessionChannelError, type Role } from "psession";
import { checkOrigins, originAllowed } from "./origins.js";
import type { Endpoint, WindowLike, WorkerAttachOptions } from "./types.js";
import { LABEL, refusedOrigin, type Wire } from "./wire.js";

type Timer = ReturnType<typeof setInterval> & { unref?(): unknown };

export function isWindow(value: object): value is WindowLike {
  try {
    // A WindowProxy's `window` is itself, across origins too.
    return typeof (value as WindowLike).postMessage === "function" && (value as WindowLike).window === value;
  } catch {
    return false;
  }
}

export function windowWire(target: WindowLike, options: WorkerAttachOptions): Wire {
  const { targetOrigin } = options;
  if (typeof targetOrigin !== "string" || targetOrigin === "") {
    throw new TypeError(
      `${LABEL}: a window endpoint needs targetOrigin (the origin of the frame or window you post to)`,
    );
  }
  const here = (options.context ?? globalThis) as Endpoint;
  let allowed = options.allowedOrigins;
  if (allowed === undefined) {
    if (targetOrigin === "*") {
      throw new TypeError(
        `${LABEL}: targetOrigin "*" needs allowedOrigins (which origins may answer): none is accepted by default`,
      );
    }
    const own = (globalThis as { location?: { origin?: string } }).location?.origin;
    allowed = [targetOrigin === "/" && own !== undefined ? own : targetOrigin];
  }
  const origins = checkOrigins(allowed, LABEL);
  const poll = options.closedPollInterval ?? 250;
  const g = globalThis as { parent?: unknown; opener?: unknown };
  // Inside a frame (or a popup) the window we were opened by is the creator: we answer it.
  const role: Role = target !== globalThis && (target === g.parent || target === g.opener) ? "server" : "client";
  return {
    kind: "window",
    channel: target,
    role,
    post(value, transfer) {
      target.postMessage(value, targetOrigin, transfer);
    },
    open(sink) {
      const onMessage = (event: { source?: unknown; origin?: unknown; data: unknown }) => {
        if (event.source !== target) return; // another frame's: not ours
        if (!originAllowed(origins, event.origin)) {
          sink.fault(refusedOrigin("window", event.origin));
          return;
        }
        sink.data(event.data);
      };
      here.addEventListener("message", onMessage);
      // A removed iframe or a closed popup sends nothing: look whether it is gone.
      let timer: Timer | undefined;
      if (poll > 0) {
        timer = setInterval(() => {
          if (isClosed(target))
            sink.closed(new SessionChannelError("CLOSED", "the window was closed or its frame removed"));
        }, poll) as Timer;
        timer.unref?.();
      }
      return () => {
        here.removeEventListener("message", onMessage);
        clearInterval(timer);
      };
    },
  };
}

function isClosed(target: WindowLike): boolean {
  try {
    return target.closed === true;
  } catch {
    return false;
  }
}
