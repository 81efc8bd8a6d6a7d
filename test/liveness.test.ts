import { describe, expect, it, vi } from 'vitest';
import type { Bus, BusEvent } from '../src/bus/bus.js';
import { BusMonitor } from '../src/bus/bus-monitor.js';
import { MemoryBus } from '../src/bus/memory.js';
import { createLivenessCheck } from '../src/liveness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: the event loop cannot run
  }
}

describe('liveness check', () => {
  it('fails after an event-loop stall above the bound, and passes again in the next window', async () => {
    const logger = { warn: vi.fn() };
    const live = createLivenessCheck({ maxEventLoopDelayMs: 150, logger });
    try {
      await sleep(60);
      expect(live.check()).toBe(true);
      await sleep(30); // the first sample after a reset only starts the measurement
      blockFor(400);
      await sleep(60);
      expect(live.check()).toBe(false);
      expect(live.last?.eventLoopDelayMaxMs).toBeGreaterThan(150);
      expect(live.last?.reasons[0]).toMatch(/^the event loop stalled for \d+ ms \(limit 150 ms\)$/);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      await sleep(100);
      expect(live.check()).toBe(true);
      expect(live.last).toMatchObject({ ok: true, reasons: [] });
    } finally {
      live.close();
    }
  });

  it('fails when the bus stays down longer than maxBusDownMs; Infinity turns that off', () => {
    let now = 1_000_000;
    const bus = new MemoryBus();
    const monitor = new BusMonitor(bus, { now: () => now });
    const strict = createLivenessCheck({ bus: monitor, maxBusDownMs: 120_000 });
    const lenient = createLivenessCheck({ bus: monitor, maxBusDownMs: Infinity });
    try {
      bus.emit({ type: 'disconnected', reason: 'bridge died' });
      now += 60_000;
      expect(strict.check()).toBe(true);
      now += 61_000;
      expect(strict.check()).toBe(false);
      expect(strict.last).toMatchObject({ busDownMs: 121_000, reasons: ['the bus has been down for 121 s (limit 120 s)'] });
      expect(lenient.check()).toBe(true);
      bus.emit({ type: 'reconnected', gapMs: 121_000 });
      expect(strict.check()).toBe(true);
    } finally {
      strict.close();
      lenient.close();
      monitor.close();
    }
  });
});

describe('BusMonitor', () => {
  it('counts reconnects and gaps from bus events and stops following on close()', () => {
    let now = Date.parse('2025-03-01T10:00:00.000Z');
    const bus = new MemoryBus();
    const m = new BusMonitor(bus, { now: () => now });
    expect(m.status()).toEqual({ state: 'connected', connected: true, reconnects: 0, gapSeconds: 0 });
    bus.emit({ type: 'disconnected', reason: 'x' });
    now += 2_000;
    expect(m.status()).toEqual({ state: 'disconnected', connected: false, reconnects: 0, gapSeconds: 0, downSince: '2025-03-01T10:00:00.000Z' });
    expect(m.downForMs()).toBe(2_000);
    bus.emit({ type: 'reconnected', gapMs: 2_000 });
    bus.emit({ type: 'disconnected', reason: 'y' });
    bus.emit({ type: 'reconnected', gapMs: 500 });
    expect(m.status()).toEqual({ state: 'connected', connected: true, reconnects: 2, gapSeconds: 2.5 });
    expect(m.downForMs()).toBe(0);
    m.close();
    bus.emit({ type: 'disconnected', reason: 'z' });
    expect(m.status()).toMatchObject({ state: 'closed', connected: false, reconnects: 2 });
  });

  it('reads the state a ZenohBus reports first-hand', () => {
    let listener: ((e: BusEvent) => void) | undefined;
    const zenohLike = {
      state: 'reconnecting',
      subscribe: vi.fn(),
      put: vi.fn(),
      close: vi.fn(),
      onEvent(l: (e: BusEvent) => void) {
        listener = l;
        return () => undefined;
      },
    };
    const m = new BusMonitor(zenohLike as unknown as Bus);
    expect(m.status()).toMatchObject({ state: 'reconnecting', connected: false });
    zenohLike.state = 'connected';
    listener?.({ type: 'reconnected', gapMs: 10 });
    expect(m.status()).toEqual({ state: 'connected', connected: true, reconnects: 1, gapSeconds: 0.01 });
    zenohLike.state = 'closed';
    expect(m.status()).toMatchObject({ state: 'closed', connected: false });
  });
});
