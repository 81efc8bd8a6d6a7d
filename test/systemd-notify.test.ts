import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifier, startWatchdog, watchdogIntervalFromEnv, type Notifier } from '../src/systemd.js';
import { startNotifySocket, type NotifySocket } from './helpers/notify-socket.js';
import { tempDir } from './helpers/harness.js';

const hasTool = spawnSync('systemd-notify', ['--version']).status === 0;
if (!hasTool) console.warn('SKIPPED: systemd-notify is not installed; the sd_notify datagram tests need it');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const warnLogger = () => ({ warn: vi.fn(), debug: vi.fn(), info: vi.fn() });

describe('sd_notify without NOTIFY_SOCKET', () => {
  it('is a no-op: nothing is spawned, every call resolves false', async () => {
    const logger = warnLogger();
    const n = createNotifier({ env: { PATH: process.env.PATH }, command: '/nonexistent/systemd-notify', logger });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeUndefined();
    expect(await n.ready('up')).toBe(false);
    expect(await n.status('x')).toBe(false);
    expect(await n.reloading()).toBe(false);
    expect(await n.stopping()).toBe(false);
    expect(await n.watchdog()).toBe(false);
    await n.close();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('ignores WATCHDOG_USEC without a socket', () => {
    expect(createNotifier({ env: { WATCHDOG_USEC: '1000000' } }).watchdogIntervalMs).toBeUndefined();
  });
});

describe('sd_notify with a missing tool', () => {
  it('logs once, disables itself and never throws', async () => {
    const logger = warnLogger();
    const n = createNotifier({ env: { NOTIFY_SOCKET: '/tmp/none.sock', PATH: '/nonexistent' }, logger });
    expect(n.enabled).toBe(true);
    const results = await Promise.all([n.ready(), n.watchdog(), n.status('x')]);
    expect(results).toEqual([false, false, false]);
    expect(n.enabled).toBe(false);
    expect(await n.stopping()).toBe(false);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[1]).toMatch(/systemd-notify cannot be run \(ENOENT\)/);
  });
});

describe('watchdogIntervalFromEnv', () => {
  it('is half of WATCHDOG_USEC in ms, for this PID only', () => {
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42)).toBeUndefined();
    expect(watchdogIntervalFromEnv({}, 42)).toBeUndefined();
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '0' }, 42)).toBeUndefined();
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'abc' }, 42)).toBeUndefined();
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '-5' }, 42)).toBeUndefined();
  });
});

describe.skipIf(!hasTool)('sd_notify on a real NOTIFY_SOCKET (systemd-notify)', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let sock: NotifySocket;
  let notifier: Notifier | undefined;

  beforeEach(async () => {
    dir = await tempDir('ha-sd-');
    sock = await startNotifySocket(dir.dir);
  });
  afterEach(async () => {
    await notifier?.close();
    notifier = undefined;
    await sock.close();
    await dir.cleanup();
  });

  const create = (extra: Record<string, string> = {}) => {
    notifier = createNotifier({ env: { PATH: process.env.PATH, NOTIFY_SOCKET: sock.path, ...extra }, logger: warnLogger() });
    return notifier;
  };

  it('sends READY=1, STATUS=, RELOADING=1 with MONOTONIC_USEC, STOPPING=1 and WATCHDOG=1 as exact datagrams, in call order', async () => {
    const n = create();
    // Called without awaiting: the queue must keep the order.
    const before = process.hrtime.bigint() / 1000n;
    const sent = [n.ready('3/3 actors running'), n.status('archiving'), n.reloading(), n.ready(), n.watchdog(), n.stopping('draining 2 events')];
    expect(await Promise.all(sent)).toEqual([true, true, true, true, true, true]);
    await sock.waitFor(6);
    const data = sock.messages.map((m) => m.data);
    expect(data[0]).toBe('READY=1\nSTATUS=3/3 actors running');
    expect(data[1]).toBe('STATUS=archiving');
    expect(data[2]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    expect(data.slice(3)).toEqual(['READY=1', 'WATCHDOG=1', 'STOPPING=1\nSTATUS=draining 2 events']);
    // MONOTONIC_USEC is CLOCK_MONOTONIC (the clock systemd compares it with), taken at the call.
    const mono = BigInt(/MONOTONIC_USEC=(\d+)/.exec(data[2] ?? '')![1]!);
    expect(mono).toBeGreaterThanOrEqual(before);
    expect(mono).toBeLessThanOrEqual(sock.messages[2]!.monoUsec);
    // Each message was followed by systemd-notify's barrier, so it was processed before the tool exited.
    expect(sock.all.filter((m) => m.data === 'BARRIER=1' && m.fds === 1)).toHaveLength(6);
  });

  it('keeps STATUS= to one line', async () => {
    const n = create();
    expect(await n.status('line one\nline two\r\nthree\0')).toBe(true);
    await sock.waitFor(1);
    expect(sock.messages[0]?.data).toBe('STATUS=line one line two three');
  });

  it('merges watchdog pings asked for while one is still queued', async () => {
    const n = create();
    const pings = [n.watchdog(), n.watchdog(), n.watchdog(), n.watchdog()];
    expect(await Promise.all(pings)).toEqual([true, true, true, true]);
    await n.close();
    expect(sock.messages.map((m) => m.data)).toEqual(['WATCHDOG=1']);
  });

  it('close() sends what is queued, then every call is a no-op', async () => {
    const n = create();
    const p = n.stopping();
    await n.close();
    expect(await p).toBe(true);
    expect(sock.messages.map((m) => m.data)).toEqual(['STOPPING=1']);
    expect(n.enabled).toBe(false);
    expect(await n.ready()).toBe(false);
    await n.close();
    await sleep(50);
    expect(sock.messages).toHaveLength(1);
  });

  it('unsetEnvironment hides the socket from child processes but keeps sending', async () => {
    const env: Record<string, string | undefined> = { PATH: process.env.PATH, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) };
    notifier = createNotifier({ env, unsetEnvironment: true });
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    expect(env.WATCHDOG_USEC).toBeUndefined();
    expect(env.WATCHDOG_PID).toBeUndefined();
    expect(notifier.watchdogIntervalMs).toBe(1000);
    expect(await notifier.ready()).toBe(true);
    await sock.waitFor(1);
    expect(sock.messages[0]?.data).toBe('READY=1');
  });

  it('the watchdog loop pings every WATCHDOG_USEC/2 while the check passes and stops when it fails', async () => {
    // WatchdogSec=0.2s: a ping every 100 ms.
    const n = create({ WATCHDOG_USEC: '200000' });
    expect(n.watchdogIntervalMs).toBe(100);
    let alive = true;
    const logger = warnLogger();
    const loop = startWatchdog({ notifier: n, check: () => alive, logger });
    try {
      expect(loop.active).toBe(true);
      await sock.waitFor(3, 5_000);
      expect(new Set(sock.messages.map((m) => m.data))).toEqual(new Set(['WATCHDOG=1']));

      alive = false;
      await sleep(250); // lets a ping already spawned arrive
      const frozen = sock.messages.length;
      await sleep(500); // five intervals without a passing check
      expect(sock.messages.length).toBe(frozen);
      expect(loop.failures).toBeGreaterThanOrEqual(4);
      expect(logger.warn).toHaveBeenCalledTimes(1); // once per failing streak, not per tick

      alive = true;
      await sock.waitFor(frozen + 2, 5_000);
      expect(logger.info).toHaveBeenCalledTimes(1);
    } finally {
      loop.stop();
    }
    expect(loop.active).toBe(false);
    await sleep(250);
    const afterStop = sock.messages.length;
    await sleep(300);
    expect(sock.messages.length).toBe(afterStop);
  });
});

describe('startWatchdog', () => {
  it('counts a check that throws, rejects or hangs as failed', async () => {
    const watchdog = vi.fn(async () => true);
    const checks: (() => boolean | Promise<boolean>)[] = [
      () => {
        throw new Error('boom');
      },
      () => Promise.reject(new Error('no')),
      () => new Promise<boolean>(() => undefined),
      () => true,
    ];
    let i = 0;
    const loop = startWatchdog({ notifier: { watchdog, watchdogIntervalMs: 20 }, check: () => checks[Math.min(i++, checks.length - 1)]!(), checkTimeoutMs: 30 });
    try {
      const end = Date.now() + 5_000;
      while (watchdog.mock.calls.length === 0 && Date.now() < end) await sleep(5);
      expect(loop.failures).toBe(3);
      expect(watchdog).toHaveBeenCalled();
    } finally {
      loop.stop();
    }
  });

  it('does nothing without a watchdog interval', () => {
    const watchdog = vi.fn(async () => true);
    const loop = startWatchdog({ notifier: { watchdog, watchdogIntervalMs: undefined }, check: () => true });
    expect(loop.active).toBe(false);
    loop.stop();
  });
});
