import { afterAll, describe, expect, test } from 'vitest';
import { findFreePort } from '../../src/bus/bridge-process.js';
import type { BusEvent, Sample } from '../../src/bus/bus.js';
import { ZenohBus } from '../../src/bus/zenoh.js';
import { recordingLogger, startTestBridge, stopAll, uniqueName, waitFor } from './helpers.js';

describe('ZenohBus connecting', () => {
  afterAll(stopAll);

  test('waits for an absent bridge, logging each attempt with its next delay, and connects once it is up', async () => {
    const wsPort = await findFreePort();
    const logger = recordingLogger('connect ');
    const bus = new ZenohBus({ url: `ws/127.0.0.1:${wsPort}`, logger, reconnectBackoff: { initialMs: 100, maxMs: 400 } });
    const events: BusEvent[] = [];
    bus.onEvent((e) => events.push(e));
    let connected = false;
    const started = bus.start().then(() => (connected = true));
    try {
      const attempts = () => logger.entries.filter((e) => e.level === 'warn' && /not reachable/.test(e.msg));
      await waitFor(() => attempts().length >= 3, 'three failed attempts');
      expect(connected).toBe(false);
      const delays = attempts().map((e) => e.obj.delayMs as number);
      expect(delays.every((d) => d > 0 && d <= 400)).toBe(true);
      expect(attempts()[0]!.msg).toMatch(/attempt 1.*next attempt in \d+ ms/);

      await startTestBridge({ wsPort });
      await started;
      expect(events).toEqual([{ type: 'connected' }]);
      expect(bus.state).toBe('connected');
    } finally {
      await bus.close();
      await started.catch(() => undefined);
    }
  });

  test('an abort signal ends the wait with its reason', async () => {
    const wsPort = await findFreePort();
    const controller = new AbortController();
    const connecting = ZenohBus.connect({ url: `ws/127.0.0.1:${wsPort}`, signal: controller.signal, reconnectBackoff: { initialMs: 50, maxMs: 100 } });
    setTimeout(() => controller.abort(new Error('shutting down')), 300);
    await expect(connecting).rejects.toThrow('shutting down');
  });

  test('a bridge that stops answering (SIGSTOP) is detected by the heartbeat; the bus reconnects after SIGCONT', async () => {
    const tb = await startTestBridge();
    const logger = recordingLogger('hang ');
    const bus = await ZenohBus.connect({ url: tb.url, logger, heartbeatIntervalMs: 300, heartbeatMisses: 2, connectTimeoutMs: 1000, reconnectBackoff: { initialMs: 100, maxMs: 300 } });
    const events: BusEvent[] = [];
    bus.onEvent((e) => events.push(e));
    const received: Sample[] = [];
    const key = `test/${uniqueName('hb')}`;
    await bus.subscribe(key, (s) => received.push(s));
    try {
      process.kill(tb.bridge.pid, 'SIGSTOP');
      await waitFor(() => events.some((e) => e.type === 'disconnected'), 'the heartbeat to declare the bridge lost', 30_000);
      expect(events[0]).toMatchObject({ type: 'disconnected', reason: expect.stringContaining('heartbeat') });
      process.kill(tb.bridge.pid, 'SIGCONT');
      await waitFor(() => events.some((e) => e.type === 'reconnected'), 'a reconnect after SIGCONT', 60_000);
      // The subscription was declared again on the new session.
      await bus.put(key, new Uint8Array([42]));
      await waitFor(() => received.length === 1, 'the put to come back after the reconnect');
    } finally {
      try {
        process.kill(tb.bridge.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await bus.close();
    }
  });

  test('close() is idempotent and later calls fail with coded errors', async () => {
    const tb = await startTestBridge();
    const bus = await ZenohBus.connect({ url: tb.url });
    await bus.subscribe('test/**', () => {});
    await Promise.all([bus.close(), bus.close()]);
    await bus.close();
    expect(bus.state).toBe('closed');
    await expect(bus.subscribe('test/x', () => {})).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED' });
    await expect(bus.put('test/x', new Uint8Array(1))).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED' });
  });
});
