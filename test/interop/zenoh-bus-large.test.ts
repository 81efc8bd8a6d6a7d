import { describe, expect, test } from 'vitest';
import type { BusEvent, Sample } from '../../src/bus/bus.js';
import { BRIDGE_MAX_FRAME_BYTES, ZenohBus } from '../../src/bus/zenoh.js';
import type { ArchiverError } from '../../src/errors.js';
import { bridgePeerAndBus, recordingLogger, sha256, uniqueName, waitFor, type HeroPeer, type PeerMessage } from './helpers.js';

const MiB = 1024 * 1024;

/**
 * HEROS publishes events with Zenoh's default congestion control, "drop": under load the
 * publishing Python session itself may drop a big message before it reaches the bridge (we
 * saw it at 60-70 MiB on loopback). That is Zenoh's behaviour, not the bus's: emit again a
 * few times instead of failing on it.
 */
async function emitUntil(peer: HeroPeer, command: string, arrived: () => boolean, perTryMs: number, tries = 3): Promise<PeerMessage> {
  for (let i = 1; ; i++) {
    const out = await peer.command(command, 120_000);
    const sent = out.find((m) => m.type === 'sent')!;
    try {
      await waitFor(arrived, `the result of "${command}"`, perTryMs, 50);
      return sent;
    } catch (err) {
      if (i >= tries) throw err;
    }
  }
}

describe('large payloads through the bridge', () => {
  const env = bridgePeerAndBus('large ');

  test('a 12 MiB event arrives intact', async () => {
    const received: Sample[] = [];
    const sub = await env.bus.subscribe(`${env.peer.keyPrefix}/big`, (s) => received.push(s));
    await env.peer.command('wait_matching big');
    const sent = await emitUntil(env.peer, `big ${12 * MiB}`, () => received.length > 0, 30_000);
    const sample = received.at(-1)!;
    expect(sample.key).toBe(`${env.peer.keyPrefix}/big`);
    expect(sample.payload.byteLength).toBe(sent.len);
    expect(sample.payload.byteLength).toBeGreaterThan(12 * MiB);
    expect(sha256(sample.payload)).toBe(sent.sha256);
    expect(env.bus.reconnects).toBe(0);
    await sub.close();
  });

  test('an event above maxMessageBytes is reported with a coded error and the env.bus keeps working', async () => {
    const logger = recordingLogger('small ');
    const small = await ZenohBus.connect({ url: env.tb.url, logger, maxMessageBytes: 16 * MiB });
    try {
      const errors: ArchiverError[] = [];
      const events: BusEvent[] = [];
      small.onError((e) => errors.push(e));
      small.onEvent((e) => events.push(e));
      const received: Sample[] = [];
      await small.subscribe(`${env.peer.keyPrefix}/*`, (s) => received.push(s));
      await env.peer.command('wait_matching big');

      await emitUntil(env.peer, `big ${20 * MiB}`, () => errors.length > 0, 30_000);
      const err = errors[0]!;
      expect(err.code).toBe('ARCHIVER_BUS_FAILED');
      expect(err.message).toContain('maxMessageBytes');
      expect(err.message).toContain(String(16 * MiB));
      expect(events.map((e) => e.type)).toEqual(['disconnected', 'reconnected']);
      expect(received.filter((s) => s.key.endsWith('/big'))).toHaveLength(0);
      expect(logger.entries.some((e) => e.level === 'error' && e.msg === err.message)).toBe(true);

      // Still subscribed after the reconnect: smaller events keep arriving.
      await env.peer.command('wait_matching frame');
      const out = await env.peer.command('emit 3');
      await waitFor(() => received.length >= 3, 'frames after the oversize event');
      expect(received.map((s) => sha256(s.payload))).toEqual(out.filter((m) => m.type === 'sent').map((m) => m.sha256));
    } finally {
      await small.close();
    }
    // The default env.bus was not subscribed to anything meanwhile and never lost its connection.
    expect(env.bus.reconnects).toBe(0);
  });

  test('put: up to the 16 MiB frame limit it is delivered; above it, refused without losing the connection', async () => {
    const events: BusEvent[] = [];
    env.bus.onEvent((e) => events.push(e));
    const received: Sample[] = [];
    const key = `test/${uniqueName('put')}`;
    const sub = await env.bus.subscribe(key, (s) => received.push(s));

    const fits = new Uint8Array(BRIDGE_MAX_FRAME_BYTES - 1024);
    fits.fill(7);
    await env.bus.put(key, fits);
    await waitFor(() => received.length === 1, 'the put to come back');
    expect(received[0]!.payload.byteLength).toBe(fits.byteLength);
    expect(sha256(received[0]!.payload)).toBe(sha256(fits));

    await expect(env.bus.put(key, new Uint8Array(BRIDGE_MAX_FRAME_BYTES))).rejects.toMatchObject({
      code: 'ARCHIVER_BUS_FAILED',
      retryable: false,
      message: expect.stringContaining('16 MiB'),
    });

    // Puts are sent in call order.
    const order = [1, 2, 3, 4, 5];
    await Promise.all(order.map((n) => env.bus.put(key, new Uint8Array([n]))));
    await waitFor(() => received.length === 1 + order.length, 'small puts');
    expect(received.slice(1).map((s) => s.payload[0])).toEqual(order);
    expect(events).toEqual([]);
    expect(env.bus.state).toBe('connected');
    await sub.close();
  });
});
