// The fields psession puts on the wire besides the session id (docs/protocol.md, wire version 1).
// Fixed names, read and written as plain properties: keyed access with constant names stays fast.

/** On every message of the side that opened the session: that side's turn number (per port, increasing). */
export const TURN = "$turn";
/** On every message of the responding side: the `$turn` it answers (0 when the opener sent none). */
export const RE = "$re";
/** On retryable sends: the attempt (1, 2, …). Asks the other side to keep its answer for a replay. */
export const TRY = "$try";
/** An interim message before the answer; restarts the waiting send's timeout. */
export const PROGRESS = "$progress";
/** "Stop working on this session": the other side ends it; its handler sees `session.signal` abort. */
export const CANCEL = "$cancel";
