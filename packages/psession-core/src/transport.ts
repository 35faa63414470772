/**
 * The whole contract between psession and a channel. `send` may throw or reject to fail one
 * attempt; `onMessage` and `onClose` return an unsubscribe function.
 */
export interface Transport<M = unknown> {
  send(message: M): void | Promise<void>;
  onMessage(listener: (message: M) => void): () => void;
  onClose?(listener: (reason?: unknown) => void): () => void;
  close?(): void;
}
