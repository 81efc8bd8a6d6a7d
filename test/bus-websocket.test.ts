import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { busWebSocketClass } from '../src/bus/zenoh.js';

describe('the WebSocket given to zenoh-ts', () => {
  it('a socket nobody listens to (a refused connection) emits no uncaught error', async () => {
    // A port that was free a moment ago: the connection is refused.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const Socket = busWebSocketClass(1024);
    const ws = new Socket(`ws://127.0.0.1:${port}`);
    const closed = await new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    expect(closed).toBe(1006);
    expect(ws.readyState).toBe(3);
  });
});
