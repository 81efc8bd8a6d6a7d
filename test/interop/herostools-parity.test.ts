/**
 * The proof of compatibility: one real Python HERO publishes a corpus of events; real BOSS
 * running herostools' ArrayArchiver/JsonArchiver and the heros-archiver daemon (a real process)
 * archive them from the same bridge with the same manifest; both trees must hold the same file
 * names with the same bytes.
 *
 *   publisher.py ──Zenoh tcp──▶ bridge ◀──Zenoh tcp── BOSS actors (one process each)
 *                                  │
 *                                  └──WebSocket──▶ heros-archiver
 *
 * The manifest is literally the same for both: its paths are relative ("archive/…") and each
 * archiver runs in its own working directory. An absolute root per archiver would have to
 * differ, and the `merged` actor writes the metadata (root included) into its files.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../helpers/harness.js';
import { startTestBridge, stopAll, waitFor, type TestBridge } from './helpers.js';
import { atLeast, startDaemon, startPublisher, startRealBoss, type DaemonProcess, type GroupProcess, type Publisher } from './processes.js';

const HERO = 'interop-cam';
const ROUNDS = 2;
/**
 * Files one round of publisher.py's corpus gives: 18 dtypes × 3 ranks × 2 orders frames, a
 * 16-frame and a 3-row stack split into one file per row, 5 records, 5 merged, 6 seed frames.
 */
const FILES_PER_ROUND = 18 * 3 * 2 + (16 + 3) + 5 + 5 + 6;
/** The actors, by event name; probes put a file under probe/<event>/ for each. */
const EVENTS = ['frame', 'stack', 'record', 'merged', 'seed'] as const;

// JSON texts, not objects: `1.0` and `1e16` must reach both sides as Python floats, and the
// integer-like key "7" must stay after "root" (a JavaScript object would move it first).
const MANIFEST_ENTRIES = [
  `{
    "_id": "parity-frame",
    "classname": "herostools.actor.ArrayArchiver",
    "arguments": {
      "object_selector": "${HERO}",
      "event_name": "frame",
      "default_metadata": { "root": "archive" },
      "save_template": "{{ root }}/frame/r{{ round }}/{{ '%03d' % idx }}-{{ name }}"
    }
  }`,
  `{
    "_id": "parity-stack",
    "classname": "herostools.actor.ArrayArchiver",
    "arguments": {
      "object_selector": "${HERO}",
      "event_name": "stack",
      "split_data_array": true,
      "default_metadata": { "root": "archive" },
      "save_template": "{{ root }}/stack/{{ run }}/{{ '%02d' % _split_index }}.npy"
    }
  }`,
  `{
    "_id": "parity-record",
    "classname": "herostools.actor.JsonArchiver",
    "arguments": {
      "object_selector": "${HERO}",
      "event_name": "record",
      "default_metadata": { "root": "archive" },
      "save_template": "{{ root }}/record/r{{ round }}-{{ n }}.json"
    }
  }`,
  `{
    "_id": "parity-merged",
    "classname": "herostools.actor.JsonArchiver",
    "arguments": {
      "object_selector": "${HERO}",
      "event_name": "merged",
      "merge_metadata": true,
      "default_metadata": {
        "root": "archive", "override": "from-default", "7": "seven", "gain": 1.0, "tiny": 1e-05,
        "huge": 1e16, "big": 123456789012345678901234567890, "unit": "µs",
        "nested": { "b": [1, 2.5, null, true], "a": {} }
      },
      "save_template": "{{ root }}/merged/r{{ round }}-{{ n }}-{{ override }}.json"
    }
  }`,
  `{
    "_id": "parity-seed",
    "classname": "herostools.actor.ArrayArchiver",
    "arguments": {
      "object_selector": "${HERO}",
      "event_name": "seed",
      "default_metadata": { "file_path": "archive/seed" },
      "save_template": "{{ file_path }}/testimg-{{ '%04d' % ( frame / 2 ) |round(0, 'floor') }}-{{ frame % 2 }}.npy"
    }
  }`,
];

/** Relative paths of the regular files under `dir`, sorted. */
function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(file, base));
    else out.push(path.relative(base, file));
  }
  return out.sort();
}

/** Name, size and mtime of every file: equal twice in a row means nobody is writing. */
function snapshot(dir: string): string {
  return listFiles(dir)
    .map((f) => {
      try {
        const st = statSync(path.join(dir, f));
        return `${f}\t${st.size}\t${st.mtimeMs}`;
      } catch {
        // renamed or removed since the listing (heros-archiver's temporary files): still busy
        return `${f}\tgone\t${Math.random()}`;
      }
    })
    .join('\n');
}

/** Where two files differ, readably: the .npy header or the JSON text around the first difference. */
function describeDifference(file: string, reference: Buffer, ours: Buffer): string {
  let at = 0;
  while (at < reference.length && at < ours.length && reference[at] === ours[at]) at++;
  const lines = [`${file}: herostools ${reference.length} bytes, heros-archiver ${ours.length} bytes, first difference at byte ${at}`];
  if (file.endsWith('.npy')) {
    const header = (b: Buffer): string => b.subarray(0, Math.min(b.length, 256)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    lines.push(`  herostools:     ${header(reference)}`, `  heros-archiver: ${header(ours)}`);
    if (at >= 128) lines.push(`  data bytes from ${at}: ${reference.subarray(at, at + 16).toString('hex')} vs ${ours.subarray(at, at + 16).toString('hex')}`);
  } else {
    const around = (b: Buffer): string => JSON.stringify(b.subarray(Math.max(0, at - 40), at + 40).toString('utf8'));
    lines.push(`  herostools:     …${around(reference)}…`, `  heros-archiver: …${around(ours)}…`);
    const sortedLines = (b: Buffer): string => b.toString('utf8').split('\n').sort().join('\n');
    if (sortedLines(reference) === sortedLines(ours)) lines.push('  (the same lines in another order: dict key order differs)');
  }
  return lines.join('\n');
}

/**
 * One BOSS and two daemons on the same bridge and publisher: one reads the bridge's WebSocket
 * (zenoh-ts), the other is a Zenoh peer of the bridge itself (`--bus native`). Both trees must
 * equal the one herostools wrote.
 */
describe('heros-archiver writes the same files as herostools under real BOSS', () => {
  let tb: TestBridge;
  let work: { dir: string; cleanup: () => Promise<void> };
  let bossArchive: string;
  let daemonArchive: string;
  let nativeArchive: string;
  let deadLetterDir: string;
  let nativeDeadLetterDir: string;
  let boss: GroupProcess;
  let daemon: DaemonProcess;
  let nativeDaemon: DaemonProcess;
  let publisher: Publisher;
  let events = 0;
  let probes = 0;

  beforeAll(async () => {
    work = await tempDir('ha-parity-');
    const bossDir = path.join(work.dir, 'boss');
    const daemonDir = path.join(work.dir, 'heros-archiver');
    const nativeDir = path.join(work.dir, 'heros-archiver-native');
    bossArchive = path.join(bossDir, 'archive');
    daemonArchive = path.join(daemonDir, 'archive');
    nativeArchive = path.join(nativeDir, 'archive');
    deadLetterDir = path.join(work.dir, 'dead-letter');
    nativeDeadLetterDir = path.join(work.dir, 'dead-letter-native');
    mkdirSync(bossDir);
    mkdirSync(daemonDir);
    mkdirSync(nativeDir);
    const manifestFile = path.join(work.dir, 'parity.json');
    writeFileSync(manifestFile, `[\n${MANIFEST_ENTRIES.join(',\n')}\n]\n`);

    tb = await startTestBridge();
    boss = startRealBoss(MANIFEST_ENTRIES, { endpoint: tb.endpoint, cwd: bossDir });
    daemon = startDaemon(
      ['run', manifestFile, '--zenoh', tb.url, '--root', daemonDir, '--state-dir', path.join(work.dir, 'state'), '--dead-letter-dir', deadLetterDir],
      { cwd: daemonDir },
    );
    nativeDaemon = startDaemon(
      [
        'run', manifestFile, '--bus', 'native', '--bridge-connect', tb.endpoint, '--bridge-listen', 'tcp/127.0.0.1:0', '--no-multicast-scouting',
        '--root', nativeDir, '--state-dir', path.join(work.dir, 'state-native'), '--dead-letter-dir', nativeDeadLetterDir, '--http', 'off',
      ],
      { cwd: nativeDir },
    );
    await daemon.waitForLog((l) => l.msg === 'ready', 'ready');
    await nativeDaemon.waitForLog((l) => l.msg === 'ready', 'ready (native)');
    publisher = await startPublisher(tb.endpoint, ROUNDS);

    // Every BOSS actor is its own process with its own Zenoh session: publish probes until each
    // actor of both archivers has written one, so that nothing of the corpus can miss a
    // subscriber that was not declared yet.
    const probed = (root: string, event: string): boolean => listFiles(path.join(root, 'probe', event)).length > 0;
    const live = (): boolean => EVENTS.every((e) => probed(bossDir, e) && probed(daemonDir, e) && probed(nativeDir, e));
    try {
      await waitFor(
        async () => {
          if (live()) return true;
          await publisher.command(`probe ${++probes}`);
          return false;
        },
        'a probe file from every actor of BOSS and of heros-archiver',
        120_000,
        500,
      );
    } catch (err) {
      const missing = EVENTS.flatMap((e) => [
        ...(probed(bossDir, e) ? [] : [`BOSS ${e}`]),
        ...(probed(daemonDir, e) ? [] : [`heros-archiver ${e}`]),
        ...(probed(nativeDir, e) ? [] : [`heros-archiver --bus native ${e}`]),
      ]);
      throw new Error(`${(err as Error).message}; missing: ${missing.join(', ')}\n${boss.tail()}\n${daemon.tail()}\n${nativeDaemon.tail()}`);
    }

    events = await publisher.command('go');
    const expectedFiles = ROUNDS * FILES_PER_ROUND;

    // Complete (the expected count on both sides) and stable (nothing written for a second).
    let before = '';
    try {
      await waitFor(
        () => {
          const now = `${snapshot(bossArchive)}\n---\n${snapshot(daemonArchive)}\n---\n${snapshot(nativeArchive)}`;
          const stable = now === before;
          before = now;
          return stable && [bossArchive, daemonArchive, nativeArchive].every((root) => listFiles(root).length === expectedFiles);
        },
        `${expectedFiles} files in both trees`,
        180_000,
        1000,
      );
    } catch (err) {
      const b = new Set(listFiles(bossArchive));
      const d = new Set(listFiles(daemonArchive));
      const n = new Set(listFiles(nativeArchive));
      throw new Error(
        `${(err as Error).message}: herostools wrote ${b.size}, heros-archiver ${d.size}, heros-archiver --bus native ${n.size}; ` +
          `only herostools: ${[...b].filter((f) => !d.has(f)).slice(0, 20).join(', ') || '-'}; ` +
          `only heros-archiver: ${[...d].filter((f) => !b.has(f)).slice(0, 20).join(', ') || '-'}; ` +
          `missing with --bus native: ${[...b].filter((f) => !n.has(f)).slice(0, 20).join(', ') || '-'}\n${boss.tail()}\n${daemon.tail()}\n${nativeDaemon.tail()}`,
      );
    }
  }, 420_000);

  afterAll(async () => {
    await stopAll();
    await work?.cleanup();
  });

  /** Differences between herostools' tree and both daemons' among the files whose name ends with `suffix`. */
  function compare(suffix: string): { files: number; bytes: number; differences: string[] } {
    const names = listFiles(bossArchive).filter((n) => n.endsWith(suffix));
    const differences: string[] = [];
    let bytes = 0;
    for (const name of names) {
      const reference = readFileSync(path.join(bossArchive, name));
      bytes += reference.length;
      for (const [label, root] of [['', daemonArchive], [' (--bus native)', nativeArchive]] as const) {
        const ours = readFileSync(path.join(root, name));
        if (!reference.equals(ours)) differences.push(describeDifference(name + label, reference, ours));
      }
    }
    return { files: names.length, bytes, differences };
  }

  test('both trees hold the same file names', () => {
    expect(events).toBe(ROUNDS * 126);
    const names = listFiles(bossArchive);
    expect(names).toHaveLength(ROUNDS * FILES_PER_ROUND);
    expect(listFiles(daemonArchive)).toEqual(names);
    expect(listFiles(nativeArchive)).toEqual(names);
  });

  test('every .npy file is byte-identical to the one numpy.save wrote', () => {
    const { files, bytes, differences } = compare('.npy');
    console.log(`herostools parity: ${files} .npy files, ${bytes} bytes, ${files - differences.length} identical (${events} events, after ${probes} probe rounds)`);
    expect(differences.length, differences.join('\n')).toBe(0);
    expect(files).toBe(ROUNDS * (18 * 3 * 2 + 16 + 3 + 6));
  });

  test('every JSON file is byte-identical to the one json.dumps wrote', () => {
    const { files, bytes, differences } = compare('.json');
    console.log(`herostools parity: ${files} JSON files, ${bytes} bytes, ${files - differences.length} identical`);
    expect(differences.length, differences.join('\n')).toBe(0);
    expect(files).toBe(ROUNDS * (5 + 5));
  });

  test('nothing was dead-lettered or logged as a warning or error, and SIGTERM ends both daemons with 0', async () => {
    expect(listFiles(deadLetterDir)).toEqual([]);
    expect(listFiles(nativeDeadLetterDir)).toEqual([]);
    expect(daemon.logs().filter((l) => atLeast(l, 'warn'))).toEqual([]);
    expect(nativeDaemon.logs().filter((l) => atLeast(l, 'warn'))).toEqual([]);
    daemon.kill('SIGTERM');
    nativeDaemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(await nativeDaemon.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
