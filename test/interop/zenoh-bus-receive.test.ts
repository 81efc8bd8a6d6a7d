import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Sample } from '../../src/bus/bus.js';
import { ZenohBus } from '../../src/bus/zenoh.js';
import { recordingLogger, sha256, startHeroPeer, startTestBridge, stopAll, uniqueName, waitFor, type HeroPeer, type TestBridge } from './helpers.js';

describe('ZenohBus receives HEROS events from a Python LocalHERO', () => {
  let tb: TestBridge;
  let peer: HeroPeer;
  let bus: ZenohBus;

  beforeAll(async () => {
    tb = await startTestBridge();
    peer = await startHeroPeer(uniqueName('cam'), tb.endpoint);
    bus = await ZenohBus.connect({ url: tb.url, logger: recordingLogger('receive ') });
  });

  afterAll(async () => {
    await bus?.close();
    await stopAll();
  });

  test('every event arrives, in order, with its key and the exact bytes heros.serdes produced', async () => {
    const received: Sample[] = [];
    const sub = await bus.subscribe('@object/heros/*/frame', (s) => received.push(s));
    await peer.command('wait_matching frame');

    const n = 200;
    const before = Date.now();
    const out = await peer.command(`emit ${n}`);
    const sent = out.filter((m) => m.type === 'sent');
    expect(sent).toHaveLength(n);

    await waitFor(() => received.length >= n, `${n} samples (have ${received.length})`, 60_000);
    expect(received).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      const s = received[i]!;
      expect(s.key).toBe(`${peer.keyPrefix}/frame`);
      expect(s.payload).toBeInstanceOf(Uint8Array);
      expect(s.payload.byteLength).toBe(sent[i]!.len);
      expect(sha256(s.payload)).toBe(sent[i]!.sha256);
      // [ndarray, metadata]: a 2-array whose first item carries the HEROS ndarray tag 4242.
      expect([...s.payload.subarray(0, 4)]).toEqual([0x82, 0xd9, 0x10, 0x92]);
      expect(s.receivedAt).toBeGreaterThanOrEqual(before);
      expect(s.receivedAt).toBeLessThanOrEqual(Date.now());
    }
    await sub.close();
  });

  test('a closed subscription receives nothing more; others keep receiving', async () => {
    const closedOne: Sample[] = [];
    const liveOne: Sample[] = [];
    const a = await bus.subscribe(`${peer.keyPrefix}/frame`, (s) => closedOne.push(s));
    const b = await bus.subscribe('@object/heros/*/*', (s) => liveOne.push(s));
    await peer.command('wait_matching frame');
    await a.close();
    await a.close(); // idempotent
    await peer.command('emit 5');
    await waitFor(() => liveOne.length >= 5, 'samples on the live subscription');
    expect(closedOne).toHaveLength(0);
    await b.close();
  });

  test('while receiving is paused nothing arrives and the connection holds; on resume every event arrives, in order', async () => {
    const received: Sample[] = [];
    const sub = await bus.subscribe(`${peer.keyPrefix}/frame`, (s) => received.push(s));
    await peer.command('wait_matching frame');
    bus.setReceivePaused(true);
    bus.setReceivePaused(true); // idempotent
    expect(bus.receivePaused).toBe(true);
    const sent = (await peer.command('emit 50')).filter((m) => m.type === 'sent');
    expect(sent).toHaveLength(50);
    // Longer than the heartbeat needs to declare the bridge lost (3 misses of 1 s): a pause is
    // not a lost bridge.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(received).toHaveLength(0);
    expect(bus.state).toBe('connected');
    expect(bus.reconnects).toBe(0);
    bus.setReceivePaused(false);
    await waitFor(() => received.length >= 50, `50 samples after resume (have ${received.length})`, 30_000);
    expect(received.map((s) => sha256(s.payload))).toEqual(sent.map((m) => m.sha256));
    await sub.close();
  });

  test('an invalid key expression is refused with a coded error', async () => {
    await expect(bus.subscribe('a//b', () => {})).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
  });
});
