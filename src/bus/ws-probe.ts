/**
 * Checks that a WebSocket server answers, with a bounded wait. Used before handing a URL to
 * zenoh-ts, whose `open()` keeps retrying for about 34 minutes when nothing listens, and to
 * decide when a freshly started bridge is ready.
 *
 * A full WebSocket handshake rather than a bare TCP connect: the bridge logs an ERROR
 * ("Error during the websocket handshake occurred") for every TCP connection that closes
 * before the handshake, while a completed and closed WebSocket leaves one INFO line.
 */

/** Zenoh locator (`ws/127.0.0.1:10000`) or URL (`ws://127.0.0.1:10000`) → WebSocket URL. */
export function toWebSocketUrl(locator: string): string {
  const m = /^(wss?)\/(.+)$/.exec(locator);
  if (m) return `${m[1]}://${m[2]}`;
  return locator;
}

/**
 * Resolves once a WebSocket to `locator` opens (it is closed again at once); rejects with an
 * `Error` saying why after `timeoutMs` or as soon as the connection fails.
 */
export function probeWebSocket(locator: string, timeoutMs: number): Promise<void> {
  const url = toWebSocketUrl(locator);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        ws.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`no WebSocket handshake from ${url} within ${timeoutMs} ms`)), timeoutMs);
    ws.addEventListener('open', () => finish());
    // Node reports a refused connection as an error event without a useful message.
    ws.addEventListener('error', () => finish(new Error(`cannot connect to ${url} (connection refused or reset)`)));
    ws.addEventListener('close', (ev) => finish(new Error(`${url} closed the connection (code ${ev.code})`)));
  });
}
