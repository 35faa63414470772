/** What the web server tells the page: where the broker listens for MQTT over WebSocket, and how to speak. */
export interface ConsoleConfig {
  wsUrl: string;
  protocolVersion: 4 | 5;
  /** The devices the console lists from the start (others appear when heard from). */
  devices: string[];
}
