import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BusEvent, Sample } from '../../src/bus/bus.js';
import { ZenohBus } from '../../src/bus/zenoh.js';
import { recordingLogger, sha256, startHeroPeer, startTestBridge, stopAll, uniqueName, waitFor, type HeroPeer, type TestBridge } from './helpers.js';

describe('ZenohBus survives the bridge being killed and restarted', () => {
  let tb: TestBridge;
  let peer: HeroPeer;
  let bus: ZenohBus;
  const logger = recordingLogger('reconnect ');

  beforeAll(async () => {
    tb = await startTestBridge();
    peer = await startHeroPeer(uniqueName('cam'), tb.endpoint);
    bus = await ZenohBus.connect({ url: tb.url, logger, heartbeatIntervalMs: 500 });
  });

  afterAll(async () => {
    await bus?.close();
    await stopAll();
  });

  test('disconnected, then reconnected; the same subscription receives events published after the restart', async () => {
    const events: BusEvent[] = [];
    bus.onEvent((e) => events.push(e));
    const received: Sample[] = [];
    const sub = await bus.subscribe('@object/heros/*/frame', (s) => received.push(s));

    await peer.command('wait_matching frame');
    await peer.command('emit 3');
    await waitFor(() => received.length >= 3, 'events before the restart');

    const killedAt = Date.now();
    // SIGKILL: a crash, no goodbye on the WebSocket.
    process.kill(tb.bridge.pid, 'SIGKILL');
    await tb.bridge.exited;
    await waitFor(() => events.some((e) => e.type === 'disconnected'), 'a disconnected event', 20_000);
    expect(bus.state).toBe('reconnecting');

    // While the bridge is down, puts fail with a coded, retryable error instead of vanishing.
    await expect(bus.put('test/while-down', new Uint8Array([1]))).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: true });

    const restarted = await startTestBridge({ wsPort: tb.wsPort, tcpPort: tb.tcpPort });
    await waitFor(() => events.some((e) => e.type === 'reconnected'), 'a reconnected event', 30_000);
    const types = events.map((e) => e.type);
    expect(types.indexOf('disconnected')).toBeLessThan(types.indexOf('reconnected'));
    const reconnected = events.find((e): e is Extract<BusEvent, { type: 'reconnected' }> => e.type === 'reconnected')!;
    expect(reconnected.gapMs).toBeGreaterThan(0);
    expect(reconnected.gapMs).toBeLessThanOrEqual(Date.now() - killedAt);
    expect(bus.state).toBe('connected');
    expect(bus.reconnects).toBe(1);

    // The Python peer reconnects to the restarted bridge by itself (connect retry in its config).
    await peer.command('wait_matching frame', 60_000);
    const before = received.length;
    const out = await peer.command('emit 5');
    const sent = out.filter((m) => m.type === 'sent');
    await waitFor(() => received.length >= before + 5, 'events after the restart', 30_000);
    const after = received.slice(before);
    expect(after.map((s) => sha256(s.payload))).toEqual(sent.map((m) => m.sha256));

    // A bridge that was killed is not a suspected oversize message.
    expect(logger.entries.filter((e) => e.level === 'error' && /maxMessageBytes/.test(e.msg))).toHaveLength(0);
    await sub.close();
    await restarted.bridge.stop();
  });
});
