/**
 * The daemon (a real process on an operator-run bridge) survives the bridge crashing: SIGKILL,
 * then a new bridge on the same ports. The events are published in three phases so that the
 * check is exact rather than statistical:
 *
 *   1. bridge up, daemon connected      → every event must be on disk
 *   2. bridge down                      → no route exists; Zenoh drops them (counted)
 *   3. bridge back, reconnect confirmed → every event must be on disk
 *
 * Phase 3 starts only once the daemon logged its reconnect and the HERO sees the daemon's
 * re-declared subscription again, which is what "connected" means for a publisher.
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../helpers/harness.js';
import { startHeroPeer, startTestBridge, stopAll, uniqueName, waitFor, type HeroPeer, type TestBridge } from './helpers.js';
import { atLeast, startDaemon, type DaemonProcess } from './processes.js';

const PHASE_1 = 40;
const PHASE_2 = 10;
const PHASE_3 = 40;

/** The `seq` of every "sent" message of a hero-peer command's output. */
function sentSeqs(out: { type: string; seq?: unknown }[]): number[] {
  return out.filter((m) => m.type === 'sent').map((m) => Number(m.seq));
}

describe('heros-archiver keeps archiving when its bridge is killed and restarted', () => {
  let tb: TestBridge;
  let peer: HeroPeer;
  let daemon: DaemonProcess;
  let work: { dir: string; cleanup: () => Promise<void> };
  let framesDir: string;
  let deadLetterDir: string;

  beforeAll(async () => {
    work = await tempDir('ha-restart-');
    framesDir = path.join(work.dir, 'frames');
    deadLetterDir = path.join(work.dir, 'dead-letter');
    tb = await startTestBridge();
    peer = await startHeroPeer(uniqueName('restart-cam'), tb.endpoint);
    const manifest = path.join(work.dir, 'boss.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        _id: 'frame-log',
        classname: 'JsonArchiver',
        arguments: {
          object_selector: peer.name,
          event_name: 'frame',
          default_metadata: { dir: framesDir },
          save_template: "{{ dir }}/frame-{{ '%06d' % frame }}.json",
        },
      }),
    );
    daemon = startDaemon(['run', manifest, '--zenoh', tb.url, '--root', work.dir, '--state-dir', path.join(work.dir, 'state'), '--dead-letter-dir', deadLetterDir], { cwd: work.dir });
    await daemon.waitForLog((l) => l.msg === 'ready', 'ready');
  });

  afterAll(async () => {
    await stopAll();
    await work?.cleanup();
  });

  const onDisk = (): Set<number> =>
    new Set(
      existsSync(framesDir)
        ? readdirSync(framesDir)
            .map((f) => /^frame-(\d+)\.json$/.exec(f))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => Number(m[1]))
        : [],
    );
  const waitOnDisk = (seqs: number[], what: string): Promise<void> =>
    waitFor(() => {
      const have = onDisk();
      return seqs.every((s) => have.has(s));
    }, what, 60_000, 50).catch((err: Error) => {
      const have = onDisk();
      throw new Error(`${err.message}; missing seqs ${seqs.filter((s) => !have.has(s)).join(',')}\n${daemon.tail()}`);
    });

  test('every event published while the bridge was up and the daemon connected is on disk; the daemon logs the loss, the reconnect and the gap', async () => {
    // Phase 1
    await peer.command('wait_matching frame');
    const phase1 = sentSeqs(await peer.command(`emit ${PHASE_1}`));
    expect(phase1).toHaveLength(PHASE_1);
    await waitOnDisk(phase1, 'phase 1 on disk');

    // Phase 2: a crash, no goodbye on the WebSocket.
    const killedAt = Date.now();
    process.kill(tb.bridge.pid, 'SIGKILL');
    await tb.bridge.exited;
    const lost = await daemon.waitForLog((l) => l.level === 'warn' && /^lost the Zenoh bridge/.test(l.msg), 'the disconnect log line', 30_000);
    const phase2 = sentSeqs(await peer.command(`emit ${PHASE_2}`));
    expect(phase2).toHaveLength(PHASE_2);

    // Phase 3: the same ports, as systemd restarting the bridge would.
    const restarted = await startTestBridge({ wsPort: tb.wsPort, tcpPort: tb.tcpPort });
    const reconnected = await daemon.waitForLog((l) => /^reconnected to the Zenoh bridge after \d+ ms$/.test(l.msg), 'the reconnect log line', 60_000);
    await peer.command('wait_matching frame', 60_000);
    const phase3 = sentSeqs(await peer.command(`emit ${PHASE_3}`));
    expect(phase3).toHaveLength(PHASE_3);
    await waitOnDisk(phase3, 'phase 3 on disk');

    // The daemon never exited, and said what happened.
    expect(daemon.exit()).toBeUndefined();
    expect(lost.url).toBe(tb.url);
    expect(String(lost.reason)).not.toBe('');
    const gapMs = reconnected.gapMs as number;
    expect(gapMs).toBeGreaterThan(0);
    expect(gapMs).toBeLessThanOrEqual(Date.now() - killedAt);
    expect(reconnected.msg).toBe(`reconnected to the Zenoh bridge after ${gapMs} ms`);
    const logs = daemon.logs();
    expect(logs.indexOf(lost)).toBeLessThan(logs.indexOf(reconnected));

    // Exactly phases 1 and 3, plus whatever of phase 2 Zenoh could deliver (nothing: no route).
    const have = onDisk();
    const arrivedWhileDown = phase2.filter((s) => have.has(s));
    expect([...have].sort((a, b) => a - b)).toEqual([...phase1, ...arrivedWhileDown, ...phase3]);
    console.log(
      `bridge restart: ${phase1.length} events before the kill and ${phase3.length} after the reconnect all archived; ` +
        `${phase2.length - arrivedWhileDown.length} of ${phase2.length} published while the bridge was down lost in Zenoh; gap ${gapMs} ms`,
    );

    // The files hold what was sent: frame n is arange(n, n + 16) as 4×4 uint16.
    for (const seq of [phase1[0]!, phase3.at(-1)!]) {
      const payload = JSON.parse(readFileSync(path.join(framesDir, `frame-${String(seq).padStart(6, '0')}.json`), 'utf8')) as number[][];
      expect(payload).toEqual([0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => seq + 4 * r + c)));
    }

    expect(existsSync(deadLetterDir) ? readdirSync(deadLetterDir) : []).toEqual([]);
    expect(logs.filter((l) => atLeast(l, 'error'))).toEqual([]);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    await restarted.bridge.stop();
  }, 300_000);
});
