/**
 * `heros-archiver run --zenoh <url>` started before its bridge (systemd ordering, a bridge that
 * restarts slower than the daemon): it must wait, say so, and start archiving once the bridge
 * is there — and a stop request during that wait must end it at once, with exit code 0.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { tempDir } from '../helpers/harness.js';
import { startHeroPeer, startTestBridge, stopAll, uniqueName, waitFor } from './helpers.js';
import { atLeast, startDaemon, type DaemonLog } from './processes.js';

const RETRY_LINE = /^Zenoh bridge at (\S+) not reachable \(attempt (\d+): .+\); next attempt in (\d+) ms$/;

describe('heros-archiver started before its bridge', () => {
  let work: { dir: string; cleanup: () => Promise<void> };

  beforeEach(async () => {
    work = await tempDir('ha-absent-');
  });

  afterEach(async () => {
    await stopAll();
    await work.cleanup();
  });

  function writeManifest(heroName: string): string {
    const manifest = path.join(work.dir, 'boss.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        _id: 'late-frames',
        classname: 'JsonArchiver',
        arguments: {
          object_selector: heroName,
          event_name: 'frame',
          default_metadata: { dir: 'frames' },
          save_template: "{{ dir }}/frame-{{ '%06d' % frame }}.json",
        },
      }),
    );
    return manifest;
  }

  const retryLines = (logs: DaemonLog[]): DaemonLog[] => logs.filter((l) => l.level === 'warn' && RETRY_LINE.test(l.msg));

  test('logs each attempt with its next delay, does not crash, and archives once a bridge appears on that port', async () => {
    const wsPort = await findFreePort();
    const url = `ws/127.0.0.1:${wsPort}`;
    const heroName = uniqueName('late-cam');
    const daemon = startDaemon(['run', writeManifest(heroName), '--zenoh', url, '--state-dir', path.join(work.dir, 'state')], { cwd: work.dir });

    await waitFor(() => retryLines(daemon.logs()).length >= 3 || daemon.exit() !== undefined, 'three retry lines', 60_000);
    expect(daemon.exit()).toBeUndefined();
    const retries = retryLines(daemon.logs());
    retries.forEach((line, i) => {
      const [, lineUrl, attempt, delay] = RETRY_LINE.exec(line.msg)!;
      expect(lineUrl).toBe(url);
      expect(Number(attempt)).toBe(i + 1);
      expect(Number(delay)).toBeGreaterThan(0);
      expect(line).toMatchObject({ url, attempt: i + 1, delayMs: Number(delay) });
    });
    expect(daemon.logs().some((l) => l.msg === 'ready')).toBe(false);

    const tb = await startTestBridge({ wsPort });
    await daemon.waitForLog((l) => l.msg === 'connected to the Zenoh bridge', 'the connection once the bridge is up');
    await daemon.waitForLog((l) => l.msg === 'ready', 'ready');

    const peer = await startHeroPeer(heroName, tb.endpoint);
    await peer.command('wait_matching frame');
    await peer.command('emit 5');
    const framesDir = path.join(work.dir, 'frames');
    const expected = [0, 1, 2, 3, 4].map((n) => `frame-${String(n).padStart(6, '0')}.json`);
    await waitFor(() => existsSync(framesDir) && expected.every((f) => readdirSync(framesDir).includes(f)), 'the five frames on disk');

    const attempts = retryLines(daemon.logs()).length;
    console.log(`bridge absent at start: ${attempts} retry lines before the bridge appeared, then 5 of 5 events archived`);
    expect(daemon.logs().filter((l) => atLeast(l, 'error'))).toEqual([]);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  }, 180_000);

  test('SIGTERM while still waiting for the bridge exits 0 at once', async () => {
    const wsPort = await findFreePort();
    const daemon = startDaemon(['run', writeManifest(uniqueName('never-cam')), '--zenoh', `ws/127.0.0.1:${wsPort}`, '--state-dir', path.join(work.dir, 'state')], { cwd: work.dir });
    await waitFor(() => retryLines(daemon.logs()).length >= 2 || daemon.exit() !== undefined, 'two retry lines', 60_000);
    expect(daemon.exit()).toBeUndefined();

    daemon.kill('SIGTERM');
    // Generous: the point is that it ends without a bridge ever appearing; a daemon that keeps
    // waiting would never exit (only a second signal would end it).
    const exit = await Promise.race([daemon.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(exit, daemon.tail()).toEqual({ code: 0, signal: null });
    const messages = daemon.logs().map((l) => l.msg);
    expect(messages.indexOf('stopping')).toBeGreaterThan(-1);
    expect(messages.at(-1)).toBe('stopped');
    expect(messages).not.toContain('ready');
    expect(daemon.logs().filter((l) => atLeast(l, 'error'))).toEqual([]);
  }, 120_000);
});
