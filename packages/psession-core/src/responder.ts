// Answering as a responder: running the `handle()` handler for a session the remote opened, and
// turning whatever it returns, throws or rejects with into exactly one answer.
import { SessionError, SessionInvalidError, SessionRemoteError, toRemoteErrorInfo } from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Session } from "./session.js";
import type { Message } from "./types.js";

/** Runs the manager's handler on the first message of a remote session; its result is the answer. */
export function runHandler(manager: SessionManager, session: Session, message: Message): void {
  let result: unknown;
  try {
    result = manager._handler!(message, session);
  } catch (error) {
    answer(manager, session, error, true);
    return;
  }
  if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
    (result as PromiseLike<unknown>).then(
      (value) => answer(manager, session, value, false),
      (error: unknown) => answer(manager, session, error, true),
    );
  } else {
    answer(manager, session, result, false);
  }
}

function answer(manager: SessionManager, session: Session, value: unknown, failed: boolean): void {
  if (session._ended) {
    // Cancelled, aborted or its port closed while the handler worked: its answer goes nowhere.
    if (failed && !(value instanceof SessionError)) manager.report(value, session._port);
    return;
  }
  let reply: Message;
  if (failed) {
    reply = { [manager._errorKey]: toRemoteErrorInfo(value) };
  } else if (value === undefined) {
    reply = {};
  } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    reply = value as Message;
  } else {
    const error = new SessionInvalidError("handle(): the handler must return an object (or nothing)");
    manager.report(error, session._port);
    reply = { [manager._errorKey]: toRemoteErrorInfo(error) };
  }
  post(manager, session, reply);
  session._end(undefined, false);
}

/** A remote opened a session and nobody on this side listens: tell it, don't leave it hanging. */
export function unhandled(manager: SessionManager, session: Session): void {
  const error = new SessionRemoteError({
    name: "SessionUnhandledError",
    message: `no handler for ${session}`,
  });
  manager.report(error, session._port);
  post(manager, session, { [manager._errorKey]: error.remote });
  session._end(undefined, false);
}

/**
 * Posts an answer. When the transport cannot carry it (too large, not serializable) the opener
 * gets a remote error instead, so it fails at once rather than at its timeout.
 */
function post(manager: SessionManager, session: Session, reply: Message): void {
  let sending: Promise<void> | undefined;
  try {
    sending = session._port._post(session._remember(session._tag(reply)), true);
  } catch (error) {
    answerFailed(manager, session, reply, error);
    return;
  }
  // Only asynchronous transports pay for a rejection handler.
  if (sending !== undefined) sending.then(undefined, (error: unknown) => answerFailed(manager, session, reply, error));
}

function answerFailed(manager: SessionManager, session: Session, reply: Message, error: unknown): void {
  manager.report(error, session._port);
  // A parked port (reconnect mode, between connections): the answer stays kept, so the opener's
  // retry after the reconnect is answered with it.
  if (!session._port.attached) return;
  if (manager._errorKey in reply) return; // the error answer itself failed: nothing smaller to send
  const reason = error instanceof Error ? error.message : String(error);
  const fallback: Message = {
    [manager._errorKey]: { name: "SessionSendError", message: `the answer could not be sent: ${reason}` },
  };
  try {
    session._port._resend(session._remember(session._tag(fallback)));
  } catch (e) {
    manager.report(e, session._port);
  }
}
