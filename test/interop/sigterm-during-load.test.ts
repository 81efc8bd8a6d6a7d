/**
 * SIGTERM of the real daemon while a backlog from a real Python HERO is being stored, with a
 * drain timeout far shorter than the backlog needs: the daemon exits 0, and every event it had
 * received is either archived or in its spool — checked by reading the spool itself after the
 * exit, not by trusting the daemon's log. A restart stores the rest. A second signal during a
 * long drain ends the daemon at once, and the spool it leaves is intact: the restart archives
 * every received event exactly once.
 *
 * Storing lags behind receiving because the actor is a JsonArchiver with `fsync: "file"` (one
 * fdatasync per file). The publisher finishes and `received` stops moving before
 * the signal, so the last /ready poll gives the exact set of events the daemon received.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { decodeHeros } from '../../src/heros/cbor.js';
import type { PyValue } from '../../src/heros/values.js';
import { Spool } from '../../src/storage/spool.js';
import { tempDir } from '../helpers/harness.js';
import { daemonBusArgs, startHeroPeer, startTestBridge, stopAll, TRANSPORTS, uniqueName, waitFor, type HeroPeer, type TestBridge } from './helpers.js';
import { actorStats, atLeast, startDaemon, type ActorStats, type DaemonProcess } from './processes.js';

const EVENTS = 4000;
const ACTOR = 'frame-log';

/** The `frame` seq of every event left in an actor's spool (opened after the daemon exited). */
async function seqsInSpool(dir: string): Promise<number[]> {
  const spool = await Spool.open(dir);
  try {
    const seqs: number[] = [];
    for (;;) {
      const records = await spool.read(1024);
      if (records.length === 0) break;
      for (const rec of records) {
        // [1, source, key, receivedAt, raw HEROS event]
        const record = decodeHeros(rec.payload.slice()) as PyValue[];
        const event = decodeHeros(record[4] as Uint8Array) as PyValue[];
        const meta = event[1] as Map<string, PyValue> | Record<string, PyValue>;
        const frame = meta instanceof Map ? meta.get('frame') : meta.frame;
        seqs.push(Number(frame));
      }
    }
    expect(seqs.length).toBe(spool.recovered.records);
    return seqs;
  } finally {
    await spool.close();
  }
}

describe.each(TRANSPORTS)('SIGTERM while the daemon stores a load from a real HERO (%s)', (transport) => {
  let tb: TestBridge;
  let peer: HeroPeer;
  let work: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    work = await tempDir('ha-sigterm-');
    tb = await startTestBridge();
    peer = await startHeroPeer(uniqueName('sigterm-cam'), tb.endpoint);
  });

  afterAll(async () => {
    await stopAll();
    await work?.cleanup();
  });

  /** A fresh archive, state folder and manifest for one test. */
  const setUp = (name: string) => {
    const base = path.join(work.dir, name);
    const framesDir = path.join(base, 'frames');
    const stateDir = path.join(base, 'state');
    const deadLetterDir = path.join(base, 'dead-letter');
    const manifest = path.join(work.dir, `${name}.json`);
    writeFileSync(
      manifest,
      JSON.stringify({
        _id: ACTOR,
        classname: 'JsonArchiver',
        arguments: {
          object_selector: peer.name,
          event_name: 'frame',
          durability: 'spool',
          fsync: 'file',
          default_metadata: { dir: framesDir },
          save_template: "{{ dir }}/frame-{{ '%06d' % frame }}.json",
        },
      }),
    );
    const start = async (port: number, extra: string[] = []): Promise<DaemonProcess> => {
      const daemon = startDaemon(
        ['run', manifest, ...daemonBusArgs(transport, tb), '--root', work.dir, '--state-dir', stateDir, '--dead-letter-dir', deadLetterDir, '--http', `127.0.0.1:${port}`, ...extra],
        { cwd: work.dir },
      );
      await daemon.waitForLog((l) => l.msg === 'ready', 'ready', 90_000);
      return daemon;
    };
    const files = (): { seqs: number[]; temps: string[]; spares: string[]; others: string[] } => {
      const names = existsSync(framesDir) ? readdirSync(framesDir) : [];
      const seqs: number[] = [];
      const others: string[] = [];
      for (const f of names.filter((n) => !n.startsWith('.'))) {
        const m = /^frame-(\d{6})\.json$/.exec(f);
        if (m) seqs.push(Number(m[1]));
        else others.push(f);
      }
      // Empty spare files (made ahead for a busy folder) apart from the temporary files of
      // stores; a store writes into a spare, so a spare with data is an interrupted store's.
      const spare = (n: string): boolean => n.startsWith('.heros-archiver-spare.') && statSync(path.join(framesDir, n)).size === 0;
      return { seqs: seqs.sort((a, b) => a - b), temps: names.filter((n) => n.startsWith('.') && !spare(n)), spares: names.filter(spare), others };
    };
    const checkContent = (seqs: readonly number[]): void => {
      for (const seq of seqs) {
        const payload = JSON.parse(readFileSync(path.join(framesDir, `frame-${String(seq).padStart(6, '0')}.json`), 'utf8')) as number[][];
        expect(payload).toEqual([0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => seq + 4 * r + c)));
      }
    };
    const deadLetters = (): string[] => (existsSync(deadLetterDir) ? readdirSync(deadLetterDir) : []);
    return { start, files, checkContent, deadLetters, spoolDir: path.join(stateDir, 'spool', ACTOR) };
  };

  /**
   * Publishes the load and waits until the daemon has received all it will — the publisher is
   * done and `received` has stopped moving — and every received event is durable. Returns the received seqs (published, minus what
   * Zenoh dropped on the way, which the daemon never saw) and the last poll.
   */
  const publishAndSettle = async (port: number, daemon: DaemonProcess): Promise<{ published: number[]; last: ActorStats }> => {
    await peer.command('wait_matching frame');
    const out = await peer.command(`emit ${EVENTS}`, 300_000);
    const published = out.filter((m) => m.type === 'sent').map((m) => Number(m.seq));
    expect(published).toHaveLength(EVENTS);
    let last: ActorStats | undefined;
    let same = 0;
    await waitFor(
      async () => {
        const s = await actorStats(port, ACTOR);
        if (s === undefined) return false;
        same = last !== undefined && s.received === last.received ? same + 1 : 0;
        last = s;
        // Every received event also durable: what a stop may leave behind is then in the spool.
        return (s.received === EVENTS || same >= 10) && s.durable === s.received;
      },
      'the daemon to receive the whole load',
      120_000,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last poll ${JSON.stringify(last)}\n${daemon.tail()}`);
    });
    return { published, last: last! };
  };

  test('exit 0 once the drain timeout ends; every received event is archived or spooled; the restart archives the rest', async () => {
    const t = setUp('drain');
    const port = await findFreePort();
    const first = await t.start(port, ['--drain-timeout', '300']);
    const { published, last } = await publishAndSettle(port, first);
    const received = last.received;
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const drainLog = first.logs().find((l) => l.msg.startsWith('drain timeout'));

    const before = t.files();
    // The signal came with a backlog: otherwise this test proves nothing about the drain.
    expect(before.seqs.length, `all ${received} were stored before the drain ended; raise EVENTS`).toBeLessThan(received);
    const spooled = await seqsInSpool(t.spoolDir);
    const onDisk = new Set(before.seqs);
    // Archived and spooled together are exactly the events received. They overlap by the
    // stores in flight when the drain timed out (at most `concurrency`, 8 by default), and by
    // stores that finished out of order above the oldest in-flight one (the spool persists a
    // watermark of acks: at most `concurrency` - 1 more). The restart rewrites the same files.
    const both = spooled.filter((s) => onDisk.has(s));
    expect(both.length).toBeLessThanOrEqual(2 * 8 - 1);
    expect(before.seqs.length + spooled.length - both.length).toBe(received);
    expect(drainLog).toMatchObject({ level: 'warn', deadLettered: 0, drainTimeoutMs: 300 });
    // The log counts the events it left unstored; the spool also still holds those stored out
    // of order above its ack watermark (they are among `both`).
    expect(Number(drainLog!.inSpool)).toBeLessThanOrEqual(spooled.length);
    expect(spooled.length - Number(drainLog!.inSpool)).toBeLessThanOrEqual(both.length);
    const receivedSeqs = [...new Set([...before.seqs, ...spooled])].sort((a, b) => a - b);
    expect(new Set(receivedSeqs).size).toBe(received);
    const publishedSet = new Set(published);
    expect(receivedSeqs.filter((s) => !publishedSet.has(s))).toEqual([]);

    const second = await t.start(port);
    const recovered = await second.waitForLog((l) => l.msg === 'recovered spooled events', 'the spool recovery log line', 30_000);
    expect(recovered.events).toBe(spooled.length);
    let after: ActorStats | undefined;
    await waitFor(async () => {
      after = await actorStats(port, ACTOR);
      return after !== undefined && after.pending === 0 && after.spooled === 0;
    }, 'the spool to be stored after the restart', 180_000, 100);
    second.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const final = t.files();
    expect(final.others).toEqual([]);
    expect(final.temps).toEqual([]);
    expect(final.spares).toEqual([]);
    expect(final.seqs).toEqual(receivedSeqs);
    t.checkContent(final.seqs);
    expect(after).toMatchObject({ received: 0, stored: spooled.length, deadLettered: 0, refused: 0 });
    expect(t.deadLetters()).toEqual([]);
    expect([...first.logs(), ...second.logs()].filter((l) => atLeast(l, 'error'))).toEqual([]);
    console.log(
      `SIGTERM drain (300 ms): ${EVENTS} published, ${received} received, ${before.seqs.length} archived by the exit (code 0), ` +
        `${spooled.length} left in the spool (${both.length} of them also written by stores in flight or finished out of order) and archived after the restart; ` +
        `${EVENTS - received} never reached the daemon`,
    );
  }, 600_000);

  test('a second signal during the drain exits at once; the spool is intact and the restart archives every received event once', async () => {
    const t = setUp('second-signal');
    const port = await findFreePort();
    // A drain timeout far longer than the test: only the second signal can end this drain.
    const first = await t.start(port, ['--drain-timeout', '600000']);
    const { published, last } = await publishAndSettle(port, first);
    const received = last.received;
    first.kill('SIGTERM');
    await first.waitForLog((l) => l.msg === 'stopping', 'the first signal to start the drain', 30_000);
    first.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.logs().some((l) => l.msg === 'second signal: exiting at once' && l.signal === 'SIGINT')).toBe(true);
    expect(first.logs().some((l) => l.msg === 'stopped')).toBe(false);

    const before = t.files();
    // It did exit before the drain could finish.
    expect(before.seqs.length, `all ${received} were stored before the second signal; raise EVENTS`).toBeLessThan(received);
    // The stores the exit interrupted may have left their hidden temporary files (one per
    // store in flight: at most `concurrency`, 8 by default), and the writer threads their empty
    // spare files (at most 8 each, two threads), which the next daemon writing there removes.
    expect(before.temps.length).toBeLessThanOrEqual(8);
    expect(before.spares.length).toBeLessThanOrEqual(16);

    const second = await t.start(port);
    const recovered = await second.waitForLog((l) => l.msg === 'recovered spooled events', 'the spool recovery log line', 30_000);
    let after: ActorStats | undefined;
    await waitFor(async () => {
      after = await actorStats(port, ACTOR);
      return after !== undefined && after.pending === 0 && after.spooled === 0;
    }, 'the spool to be stored after the restart', 180_000, 100);
    second.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    // Every received event exactly once (by name), nothing under another name, right content.
    const final = t.files();
    expect(final.others).toEqual([]);
    expect(final.seqs).toHaveLength(received);
    expect(new Set(final.seqs).size).toBe(received);
    const publishedSet = new Set(published);
    expect(final.seqs.filter((s) => !publishedSet.has(s))).toEqual([]);
    t.checkContent(final.seqs);
    expect(after).toMatchObject({ received: 0, deadLettered: 0, refused: 0 });
    expect(Number(recovered.events)).toBeGreaterThanOrEqual(received - before.seqs.length);
    expect(t.deadLetters()).toEqual([]);
    expect([...first.logs(), ...second.logs()].filter((l) => atLeast(l, 'error'))).toEqual([]);
    console.log(
      `second signal: ${received} received, ${before.seqs.length} archived when SIGINT ended the drain at once (exit 0), ` +
        `${recovered.events} recovered from the spool (re-stores included); all ${received} archived exactly once after the restart`,
    );
  }, 600_000);
});
