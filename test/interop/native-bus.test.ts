import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Sample } from '../../src/bus/bus.js';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { defaultAddonPath, NativeZenohBus, nativeSettings } from '../../src/bus/native.js';
import { repoRoot } from '../helpers/python.js';
import { startGroupProcess } from './processes.js';
import { recordingLogger, sha256, startHeroPeer, startTestBus, stopAll, uniqueName, waitFor, type HeroPeer, type TestBus } from './helpers.js';

const MiB = 1024 * 1024;
const SENDER = path.join(repoRoot, 'test', 'interop', 'native-sender.mjs');

/**
 * A sender in its own process (test/interop/native-sender.mjs), connected to `endpoint`: the
 * receiving thread here can then be kept busy while samples keep coming.
 */
async function startSender(endpoint: string, key: string, count: number, bytes: number, numbered = false): Promise<{ reach(arrived: () => boolean): Promise<void>; go(): Promise<void> }> {
  const proc = startGroupProcess('native-sender', process.execPath, [SENDER, defaultAddonPath(), endpoint, key, String(count), String(bytes), ...(numbered ? ['numbered'] : [])]);
  const said = async (word: string, from: number): Promise<void> =>
    waitFor(
      () => {
        if (proc.exit() && !proc.stdout.slice(from).includes(word)) throw new Error(`native-sender exited\n${proc.tail()}`);
        return proc.stdout.slice(from).includes(word);
      },
      `native-sender: ${word}`,
      30_000,
    );
  await said('connected', 0);
  const probe = async (): Promise<void> => {
    const from = proc.stdout.length;
    proc.child.stdin!.write('probe\n');
    await said('probed', from);
  };
  return {
    // The first put may race the subscription's declaration reaching the sender: probe until one arrives.
    reach: (arrived: () => boolean) =>
      waitFor(
        async () => {
          await probe();
          await new Promise((r) => setTimeout(r, 50));
          return arrived();
        },
        'the subscription to reach the sender',
        10_000,
        0,
      ),
    go: async () => {
      const from = proc.stdout.length;
      proc.child.stdin!.write('go\n');
      await said('done', from);
    },
  };
}

describe('NativeZenohBus: an in-process Zenoh session with a Python LocalHERO as its peer', () => {
  let env: TestBus<NativeZenohBus>;
  let peer: HeroPeer;
  let spillFolder: string;
  const logger = recordingLogger('native ');

  beforeAll(async () => {
    spillFolder = mkdtempSync(path.join(os.tmpdir(), 'ha-native-spill-'));
    env = await startTestBus('native', logger, { spillFolder });
    peer = await startHeroPeer(uniqueName('cam'), env.endpoint);
  });
  afterAll(async () => {
    await env?.bus.close();
    await stopAll();
    rmSync(spillFolder, { recursive: true, force: true });
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

  test("paused longer than Zenoh's lease: nothing arrives, the link holds, the events wait in the spill file; on resume every one arrives, in order", async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe(`${peer.keyPrefix}/frame`, (s) => received.push(s));
    await peer.command('wait_matching frame');
    env.bus.setReceivePaused(true);
    env.bus.setReceivePaused(true); // idempotent
    expect(env.bus.receivePaused).toBe(true);
    const spilledBefore = env.bus.spilledTotal;
    const sent = (await peer.command('emit 50')).filter((m) => m.type === 'sent');
    // Longer than Zenoh's lease (10 s): holding Zenoh's receive task that long would cost the
    // link and the events in flight on it.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(received).toHaveLength(0);
    expect(await env.bus.connectedCount()).toBeGreaterThanOrEqual(1);
    expect(env.bus.spilledTotal - spilledBefore).toBe(50);
    expect(env.bus.spilledBytes).toBeGreaterThan(50 * 100);
    env.bus.setReceivePaused(false);
    await waitFor(() => received.length >= 50, `50 samples after resume (have ${received.length})`, 30_000);
    expect(received.map((s) => sha256(s.payload))).toEqual(sent.map((m) => m.sha256));
    expect(received.map((s) => s.key)).toEqual(sent.map((m) => m.key));
    expect(env.bus.spilledBytes).toBe(0);
    await waitFor(() => logger.entries.some((e) => e.msg.startsWith('spill file drained')), 'the drained log line', 5_000);
    expect(logger.entries.some((e) => e.level === 'warn' && e.msg.includes('spilling them to disk'))).toBe(true);
    // The spill file was unlinked at once: nothing is left in its folder.
    expect(readdirSync(spillFolder)).toEqual([]);
    await sub.close();
  }, 60_000);

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

  test('samples waiting for a busy JavaScript thread stay within maxQueuedBytes, the rest is spilled, and none is lost, changed or reordered', async () => {
    const port = await findFreePort();
    const endpoint = `tcp/127.0.0.1:${port}`;
    const budget = 256 * 1024;
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, maxQueuedBytes: budget, spillFolder });
    try {
      const got: Buffer[] = [];
      let maxQueued = 0;
      let busy = false;
      const sub = await receiver.subscribe('bench/queue', (s) => {
        if (busy) {
          busy = false;
          // Keep the JavaScript thread busy while the sender publishes 200 × 20 KiB (spilled
          // after their header, not in one write with it as samples up to 16 KiB are).
          const until = Date.now() + 1500;
          while (Date.now() < until) maxQueued = Math.max(maxQueued, receiver.queuedBytes);
        }
        maxQueued = Math.max(maxQueued, receiver.queuedBytes);
        got.push(Buffer.from(s.payload));
      });
      const sender = await startSender(endpoint, 'bench/queue', 200, 20 * 1024);
      await sender.reach(() => got.length > 0);
      got.length = 0;
      busy = true;
      const n = 200;
      const frames = Array.from({ length: n }, (_, i) => Buffer.alloc(20 * 1024, i % 256));
      await sender.go();
      await waitFor(() => got.length >= n, `${n} samples (have ${got.length})`, 30_000);
      expect(got.map((b) => b[0])).toEqual(frames.map((f) => f[0]));
      expect(got.every((b, i) => b.equals(frames[i]!))).toBe(true);
      expect(receiver.spilledTotal).toBeGreaterThan(0);
      expect(receiver.spilledBytes).toBe(0);
      // One sample may pass alone when it exceeds the rest of the budget: budget plus one sample at most.
      expect(maxQueued).toBeGreaterThan(0);
      expect(maxQueued).toBeLessThanOrEqual(budget + 20 * 1024 + 256);
      await sub.close();
    } finally {
      await receiver.close();
    }
  }, 60_000);

  test('samples a handler holds keep counting until it lets go: beyond maxQueuedSamples the rest (3 MiB of 1 KiB samples) is spilled and handed on in order as it lets go', async () => {
    const endpoint = `tcp/127.0.0.1:${await findFreePort()}`;
    const max = 50;
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, maxQueuedSamples: max, spillFolder });
    try {
      const got: number[] = [];
      const intact: boolean[] = [];
      const held: (() => void)[] = [];
      let holding = false;
      let probes = 0;
      const sub = await receiver.subscribe('test/hold', (s) => {
        if (!holding || s.payload.length < 4) {
          probes++;
          return;
        }
        const i = s.payload.readUInt32LE(0);
        got.push(i);
        intact.push(s.payload.length === 1024 && s.payload.subarray(4).every((b) => b === i % 256));
        held.push(s.hold!());
      });
      const n = 3000;
      const sender = await startSender(endpoint, 'test/hold', n, 1024, true);
      await sender.reach(() => probes > 0);
      holding = true;
      await sender.go();
      await waitFor(() => got.length === max && receiver.spilledBytes > 2 * MiB, `${max} handed over and the rest spilled (have ${got.length}, ${receiver.spilledBytes} bytes spilled)`, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      // Nothing more while the handler holds them all.
      expect(got).toHaveLength(max);
      expect(receiver.queuedSamples).toBe(max);
      // Letting go of some is not enough: the spill hands on again below three quarters.
      for (const letGo of held.splice(0, 5)) letGo();
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toHaveLength(max);
      // Letting go as they come: every one arrives, in order and intact, and the spill file empties.
      while (got.length < n) {
        for (const letGo of held.splice(0)) letGo();
        await new Promise((r) => setTimeout(r, 5));
        if (receiver.spilledTotal === 0) throw new Error('nothing was spilled');
      }
      for (const letGo of held.splice(0)) letGo();
      expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(intact.every(Boolean)).toBe(true);
      expect(receiver.spilledBytes).toBe(0);
      expect(receiver.queuedSamples).toBe(0);
      expect(receiver.queuedBytes).toBe(0);
      await sub.close();
    } finally {
      await receiver.close();
    }
  }, 90_000);

  test('a sample held beyond holdLimitMs stops counting, with a warning, so that receiving goes on', async () => {
    const endpoint = `tcp/127.0.0.1:${await findFreePort()}`;
    const logger = recordingLogger();
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, maxQueuedSamples: 5, holdLimitMs: 1000, spillFolder, logger });
    try {
      const got: number[] = [];
      let holding = false;
      let probes = 0;
      const sub = await receiver.subscribe('test/hold-limit', (s) => {
        if (!holding || s.payload.length < 4) {
          probes++;
          return;
        }
        got.push(s.payload.readUInt32LE(0));
        s.hold!(); // never let go
      });
      const sender = await startSender(endpoint, 'test/hold-limit', 12, 64, true);
      await sender.reach(() => probes > 0);
      holding = true;
      await sender.go();
      await waitFor(() => got.length === 5, 'the first five', 10_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(got).toHaveLength(5);
      // Each second the holds older than a second stop counting: the rest follows, in order.
      await waitFor(() => got.length === 12, `all 12 (have ${got.length})`, 15_000);
      expect(got).toEqual(Array.from({ length: 12 }, (_, i) => i));
      const warning = logger.entries.find((l) => l.level === 'warn' && /hold limit/.test(l.msg));
      expect(warning?.obj).toMatchObject({ holdLimitMs: 1000 });
      await sub.close();
    } finally {
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

describe('NativeZenohBus when its peer is absent, then comes and goes', () => {
  test('opens while the endpoint it connects to is down, receives once a peer listens there, and again after that peer restarts', async () => {
    const port = await findFreePort();
    const endpoint = `tcp/127.0.0.1:${port}`;
    // Retry quickly, as an operator would configure it for a router that starts later.
    const retry = ['connect/retry:{"period_init_ms":100,"period_max_ms":500,"period_increase_factor":2}'];
    const daemon = await NativeZenohBus.open({ connect: [endpoint], listen: ['tcp/127.0.0.1:0'], multicastScouting: false, cfg: retry });
    const got: string[] = [];
    const sub = await daemon.subscribe('lab/cam/**', (s) => got.push(Buffer.from(s.payload).toString()));
    try {
      expect(daemon.state).toBe('connected');
      expect(await daemon.connectedCount()).toBe(0);
      for (const round of [1, 2]) {
        const peer = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false });
        try {
          await waitFor(async () => (await daemon.connectedCount()) > 0, `the daemon to reach the peer (round ${round})`, 30_000);
          await waitFor(
            async () => {
              await peer.put('lab/cam/frame', Buffer.from(`round ${round}`));
              await new Promise((r) => setTimeout(r, 100));
              return got.includes(`round ${round}`);
            },
            `a sample of round ${round}`,
            30_000,
            0,
          );
        } finally {
          await peer.close();
        }
        await waitFor(async () => (await daemon.connectedCount()) === 0, `the daemon to notice the peer left (round ${round})`, 30_000);
      }
      expect(got).toContain('round 1');
      expect(got).toContain('round 2');
    } finally {
      await sub.close();
      await daemon.close();
    }
  }, 120_000);
});

describe('NativeZenohBus whose spill file reaches its limit', () => {
  test('samples beyond the limit wait for the spilled ones (none overtakes), and all arrive in order', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'ha-native-spill-limit-'));
    const endpoint = `tcp/127.0.0.1:${await findFreePort()}`;
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, spillFolder: folder, spillLimitBytes: 10 * 1024 });
    try {
      const got: number[] = [];
      await receiver.subscribe('test/limit', (s) => got.push(s.payload[0]!));
      // Small samples: those held back wait in the socket buffers, which they fit (the sender
      // would drop beyond, with "drop" congestion control).
      const sender = await startSender(endpoint, 'test/limit', 30, 2 * 1024);
      await sender.reach(() => got.length > 0);
      got.length = 0;
      receiver.setReceivePaused(true);
      const sending = sender.go();
      await waitFor(() => receiver.spilledTotal >= 4, 'the spill file to fill', 10_000);
      await new Promise((r) => setTimeout(r, 500));
      // 10 KiB hold four 2 KiB samples with their headers; the fifth waits, holding the receive task.
      expect(receiver.spilledTotal).toBe(4);
      expect(got).toHaveLength(0);
      receiver.setReceivePaused(false);
      await sending;
      await waitFor(() => got.length >= 30, `30 samples (have ${got.length})`, 30_000);
      expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(receiver.spilledBytes).toBe(0);
    } finally {
      await receiver.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('NativeZenohBus whose spill folder cannot be written', () => {
  test('reports ARCHIVER_BUS_FAILED naming the folder, and samples wait for room instead (here within the socket buffers): none lost', async () => {
    const port = await findFreePort();
    const endpoint = `tcp/127.0.0.1:${port}`;
    const logger = recordingLogger('no-spill ');
    // Waiting holds Zenoh's receive task, so the backlog waits in the sockets and then in the
    // sender, which drops ("drop" congestion control) once its queue is full: 100 × 1 KiB fit
    // in the socket buffers, and go past the 8 KiB budget, which makes the receiver try to spill.
    const receiver = await NativeZenohBus.open({ listen: [endpoint], multicastScouting: false, maxQueuedBytes: 8 * 1024, spillFolder: '/proc/heros-archiver-no-such-folder', logger });
    try {
      const got: number[] = [];
      let busy = false;
      await receiver.subscribe('test/nospill', (s) => {
        if (busy) {
          busy = false;
          const until = Date.now() + 500;
          while (Date.now() < until);
        }
        got.push(s.payload[0]!);
      });
      const sender = await startSender(endpoint, 'test/nospill', 100, 1024);
      await sender.reach(() => got.length > 0);
      got.length = 0;
      busy = true;
      await sender.go();
      await waitFor(() => got.length >= 100, `100 samples (have ${got.length})`, 30_000);
      expect(got.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      await waitFor(() => logger.entries.some((e) => e.level === 'error' && e.obj.code === 'ARCHIVER_BUS_FAILED'), 'the spill failure to be logged', 5_000);
      const entry = logger.entries.find((e) => e.obj.code === 'ARCHIVER_BUS_FAILED')!;
      expect(entry.msg).toContain('/proc/heros-archiver-no-such-folder');
      expect(receiver.spilledTotal).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 60_000);
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
