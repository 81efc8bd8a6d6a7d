import { describe, expect, test } from 'vitest';
import type { Sample } from '../../src/bus/bus.js';
import { bridgePeerAndBus, sha256, waitFor } from './helpers.js';

describe('ZenohBus receives HEROS events from a Python LocalHERO', () => {
  const env = bridgePeerAndBus('receive ');

  test('every event arrives, in order, with its key and the exact bytes heros.serdes produced', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe('@object/heros/*/frame', (s) => received.push(s));
    await env.peer.command('wait_matching frame');

    const n = 200;
    const before = Date.now();
    const out = await env.peer.command(`emit ${n}`);
    const sent = out.filter((m) => m.type === 'sent');
    expect(sent).toHaveLength(n);

    await waitFor(() => received.length >= n, `${n} samples (have ${received.length})`, 60_000);
    expect(received).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      const s = received[i]!;
      expect(s.key).toBe(`${env.peer.keyPrefix}/frame`);
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
    const a = await env.bus.subscribe(`${env.peer.keyPrefix}/frame`, (s) => closedOne.push(s));
    const b = await env.bus.subscribe('@object/heros/*/*', (s) => liveOne.push(s));
    await env.peer.command('wait_matching frame');
    await a.close();
    await a.close(); // idempotent
    await env.peer.command('emit 5');
    await waitFor(() => liveOne.length >= 5, 'samples on the live subscription');
    expect(closedOne).toHaveLength(0);
    await b.close();
  });

  test('while receiving is paused nothing arrives and the connection holds; on resume every event arrives, in order', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe(`${env.peer.keyPrefix}/frame`, (s) => received.push(s));
    await env.peer.command('wait_matching frame');
    env.bus.setReceivePaused(true);
    env.bus.setReceivePaused(true); // idempotent
    expect(env.bus.receivePaused).toBe(true);
    const sent = (await env.peer.command('emit 50')).filter((m) => m.type === 'sent');
    expect(sent).toHaveLength(50);
    // Longer than the heartbeat needs to declare the bridge lost (3 misses of 1 s): a pause is
    // not a lost bridge.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(received).toHaveLength(0);
    expect(env.bus.state).toBe('connected');
    expect(env.bus.reconnects).toBe(0);
    env.bus.setReceivePaused(false);
    await waitFor(() => received.length >= 50, `50 samples after resume (have ${received.length})`, 30_000);
    expect(received.map((s) => sha256(s.payload))).toEqual(sent.map((m) => m.sha256));
    await sub.close();
  });

  test('an invalid key expression is refused with a coded error', async () => {
    await expect(env.bus.subscribe('a//b', () => {})).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
  });
});
