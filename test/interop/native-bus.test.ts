import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Sample } from '../../src/bus/bus.js';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { NativeZenohBus, nativeSettings } from '../../src/bus/native.js';
import { recordingLogger, sha256, startHeroPeer, startTestBus, stopAll, uniqueName, waitFor, type HeroPeer, type TestBus } from './helpers.js';

const MiB = 1024 * 1024;

describe('NativeZenohBus: an in-process Zenoh session with a Python LocalHERO as its peer', () => {
  let env: TestBus<NativeZenohBus>;
  let peer: HeroPeer;
  const logger = recordingLogger('native ');

  beforeAll(async () => {
    env = await startTestBus('native', logger);
    peer = await startHeroPeer(uniqueName('cam'), env.endpoint);
  });
  afterAll(async () => {
    await env?.bus.close();
    await stopAll();
  });

  test('every event arrives, in order, with its key and the exact bytes heros.serdes produced, in a buffer of its own', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe('@object/heros/*/frame', (s) => received.push(s));
    await peer.command('wait_matching frame');
    expect(await env.bus.connectedCount()).toBeGreaterThanOrEqual(1);
    const n = 300;
    const before = Date.now();
    const sent = (await peer.command(`emit ${n}`)).filter((m) => m.type === 'sent');
    expect(sent).toHaveLength(n);
    await waitFor(() => received.length >= n, `${n} samples (have ${received.length})`, 60_000);
    expect(received).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      const s = received[i]!;
      expect(s.key).toBe(`${peer.keyPrefix}/frame`);
      expect(s.payload.byteLength).toBe(sent[i]!.len);
      expect(sha256(s.payload)).toBe(sent[i]!.sha256);
      expect([...s.payload.subarray(0, 4)]).toEqual([0x82, 0xd9, 0x10, 0x92]);
      expect(s.owned).toBe(true);
      expect(s.payload.byteOffset).toBe(0);
      expect(s.payload.buffer.byteLength).toBe(s.payload.byteLength);
      expect(s.receivedAt).toBeGreaterThanOrEqual(before - 1);
      expect(s.receivedAt).toBeLessThanOrEqual(Date.now() + 1);
    }
    await sub.close();
    await sub.close(); // idempotent
  });

  test('a closed subscription receives nothing more; others keep receiving', async () => {
    const closedOne: Sample[] = [];
    const liveOne: Sample[] = [];
    const a = await env.bus.subscribe(`${peer.keyPrefix}/frame`, (s) => closedOne.push(s));
    const b = await env.bus.subscribe('@object/heros/*/*', (s) => liveOne.push(s));
    await peer.command('wait_matching frame');
    await a.close();
    await peer.command('emit 5');
    await waitFor(() => liveOne.length >= 5, 'samples on the live subscription');
    expect(closedOne).toHaveLength(0);
    await b.close();
  });

  test('while receiving is paused nothing arrives; on resume every event arrives, in order', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe(`${peer.keyPrefix}/frame`, (s) => received.push(s));
    await peer.command('wait_matching frame');
    env.bus.setReceivePaused(true);
    env.bus.setReceivePaused(true); // idempotent
    expect(env.bus.receivePaused).toBe(true);
    const sent = (await peer.command('emit 50')).filter((m) => m.type === 'sent');
    await new Promise((r) => setTimeout(r, 1500));
    expect(received).toHaveLength(0);
    env.bus.setReceivePaused(false);
    await waitFor(() => received.length >= 50, `50 samples after resume (have ${received.length})`, 30_000);
    expect(received.map((s) => sha256(s.payload))).toEqual(sent.map((m) => m.sha256));
    await sub.close();
  });

  test('a 24 MiB event arrives intact (no 16 MiB WebSocket frame limit on this path)', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe(`${peer.keyPrefix}/big`, (s) => received.push(s));
    await peer.command('wait_matching big');
    const sent = (await peer.command(`big ${24 * MiB}`, 120_000)).find((m) => m.type === 'sent')!;
    await waitFor(() => received.length > 0, 'the 24 MiB event', 60_000);
    expect(received[0]!.payload.byteLength).toBe(sent.len);
    expect(sha256(received[0]!.payload)).toBe(sent.sha256);
    await sub.close();
  }, 180_000);

  test('samples waiting for a busy JavaScript thread stay within maxQueuedBytes, and none is lost', async () => {
    const port = await findFreePort();
    const endpoint = `tcp/127.0.0.1:${port}`;
    const budget = 256 * 1024;
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, maxQueuedBytes: budget });
    const sender = await NativeZenohBus.open({ connect: [endpoint], listen: ['tcp/127.0.0.1:0'], multicastScouting: false });
    try {
      const got: Buffer[] = [];
      let maxQueued = 0;
      const sub = await receiver.subscribe('bench/queue', (s) => {
        if (got.length === 0) {
          // Keep the JavaScript thread busy while the sender publishes 200 × 16 KiB.
          const until = Date.now() + 1500;
          while (Date.now() < until) maxQueued = Math.max(maxQueued, receiver.queuedBytes);
        }
        maxQueued = Math.max(maxQueued, receiver.queuedBytes);
        got.push(Buffer.from(s.payload));
      });
      await waitFor(async () => (await sender.connectedCount()) > 0, 'the two sessions to connect');
      // The first put may race the subscription's declaration reaching the sender: probe first.
      await waitFor(
        async () => {
          await sender.put('bench/queue', Buffer.alloc(1));
          await new Promise((r) => setTimeout(r, 50));
          return got.length > 0;
        },
        'the subscription to reach the sender',
        10_000,
        0,
      );
      got.length = 0;
      const n = 200;
      const frames = Array.from({ length: n }, (_, i) => Buffer.alloc(16 * 1024, i % 256));
      for (const f of frames) await sender.put('bench/queue', f);
      await waitFor(() => got.length >= n, `${n} samples (have ${got.length})`, 30_000);
      expect(got.map((b) => b[0])).toEqual(frames.map((f) => f[0]));
      // One sample may pass alone when it exceeds the rest of the budget: budget plus one sample at most.
      expect(maxQueued).toBeGreaterThan(0);
      expect(maxQueued).toBeLessThanOrEqual(budget + 16 * 1024 + 256);
      await sub.close();
    } finally {
      await sender.close();
      await receiver.close();
    }
  }, 60_000);

  test('put carries 20 MiB between two in-process sessions, with the exact bytes', async () => {
    const port = await findFreePort();
    const endpoint = `tcp/127.0.0.1:${port}`;
    const a = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false });
    const b = await NativeZenohBus.open({ connect: [endpoint], listen: ['tcp/127.0.0.1:0'], multicastScouting: false });
    try {
      const got: Sample[] = [];
      await a.subscribe('test/big/**', (s) => got.push(s));
      await waitFor(async () => (await b.connectedCount()) > 0, 'the two sessions to connect');
      const payload = new Uint8Array(20 * MiB).map((_, i) => (i * 7) % 256);
      await waitFor(
        async () => {
          await b.put('test/big/x', payload);
          await new Promise((r) => setTimeout(r, 200));
          return got.length > 0;
        },
        'the 20 MiB sample',
        20_000,
        0,
      );
      expect(got[0]!.key).toBe('test/big/x');
      expect(sha256(got[0]!.payload)).toBe(sha256(payload));
    } finally {
      await b.close();
      await a.close();
    }
  }, 60_000);

  test('an invalid key expression is refused with a coded error', async () => {
    await expect(env.bus.subscribe('a//b', () => {})).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
    await expect(env.bus.put('a//b', new Uint8Array(1))).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
  });
});

describe('NativeZenohBus without a usable session', () => {
  test('a missing addon is a coded, not retryable error naming the set-up script', async () => {
    const bus = new NativeZenohBus({ addonPath: '/nonexistent/heros-archiver-zenoh.node' });
    const err = await bus.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
    expect(String((err as Error).message)).toContain('scripts/setup-native.sh');
  });

  test('a bad Zenoh setting is a coded error naming the setting', async () => {
    const err = await NativeZenohBus.open({ cfg: ['listen/endpoints:["nonsense"]'], multicastScouting: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
    await expect(NativeZenohBus.open({ cfg: ['no-colon'] })).rejects.toMatchObject({ code: 'ARCHIVER_USAGE' });
  });

  test('after close every call fails with a coded error; close is idempotent', async () => {
    const bus = await NativeZenohBus.open({ listen: ['tcp/127.0.0.1:0'], multicastScouting: false });
    await bus.close();
    await bus.close();
    expect(bus.state).toBe('closed');
    await expect(bus.subscribe('a/b', () => {})).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
    await expect(bus.put('a/b', new Uint8Array(1))).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', retryable: false });
  });

  test('settings: peer mode unless a configuration file is given; CLI values override the file', () => {
    expect(nativeSettings({})).toEqual([['mode', '"peer"']]);
    expect(nativeSettings({ configFile: '/etc/zenoh.json5' })).toEqual([]);
    expect(nativeSettings({ listen: ['tcp/0.0.0.0:7447'], connect: ['tcp/10.0.0.1:7447'], multicastScouting: false, cfg: ['transport/link/rx/max_message_size:2147483648'] })).toEqual([
      ['mode', '"peer"'],
      ['listen/endpoints', '["tcp/0.0.0.0:7447"]'],
      ['connect/endpoints', '["tcp/10.0.0.1:7447"]'],
      ['scouting/multicast/enabled', 'false'],
      ['transport/link/rx/max_message_size', '2147483648'],
    ]);
  });
});
