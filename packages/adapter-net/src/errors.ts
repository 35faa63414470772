import { SessionChannelError, type SessionChannelErrorCode } from "psession";

/** @deprecated Use `SessionChannelError` from psession: the one channel error of every adapter. */
export const NetChannelError = SessionChannelError;
/** @deprecated Use `SessionChannelError` from psession. */
export type NetChannelError = SessionChannelError;
/** @deprecated Use `SessionChannelErrorCode` from psession. */
export type NetErrorCode = SessionChannelErrorCode;
