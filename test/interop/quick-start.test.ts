/**
 * The README's quick start, as a user runs it: the repository's boss.json in an empty folder,
 * `heros-archiver run boss.json` (its own in-process Zenoh session, the default; and again with
 * `--bus bridge`, a managed bridge), the demo HERO publishing six frames and readings, then
 * SIGTERM. The files are checked with numpy and json, not with our own readers. Zenoh listens
 * on loopback only and does not scout, unlike the README's LAN default, so that the test stays
 * on this machine.
 */
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { tempDir } from '../helpers/harness.js';
import { pythonBin, repoRoot, runPython } from '../helpers/python.js';
import { stopAll, waitFor } from './helpers.js';
import { atLeast, startDaemon, startGroupProcess, type DaemonProcess } from './processes.js';

const FRAMES = 6;

/** Loads every archived file with numpy / json and checks it against what demo_hero.py sends. */
const CHECK_WITH_PYTHON = String.raw`
import json, os, sys
import numpy as np
root = sys.argv[1]
count = int(sys.argv[2])
report = {"images": [], "readings": []}
for n in range(count):
    name = "testimg-%04d-%d.npy" % (n // 2, n % 2)
    a = np.load(os.path.join(root, "archive", "images", name))
    expected = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) + n) % 4096
    assert a.dtype == np.uint16 and a.shape == (64, 64), (name, a.dtype, a.shape)
    assert np.array_equal(a, expected), name
    report["images"].append(name)
for n in range(count):
    name = "demo-sensor-%06d.json" % n
    with open(os.path.join(root, "archive", "readings", name)) as f:
        r = json.load(f)
    expected = {"temperature": 21.5 + 0.1 * n, "humidity": 40.0, "ok": True,
                "metadata": {"folder": "archive/readings", "sensor": "demo-sensor", "seq": n}}
    assert r == expected and list(r) == list(expected) and list(r["metadata"]) == list(expected["metadata"]), (name, r)
    assert type(r["humidity"]) is float and type(r["metadata"]["seq"]) is int, name
    report["readings"].append(name)
print(json.dumps(report))
`;

describe.each([
  ['default (in-process Zenoh session)', []],
  ['--bus bridge (managed bridge)', ['--bus', 'bridge']],
] as const)('the README quick start, %s', (_label, busArgs) => {
  const managedBridge = busArgs.length > 0;
  let work: { dir: string; cleanup: () => Promise<void> };
  let daemon: DaemonProcess;
  let zenohPort: number;
  let httpPort: number;

  beforeAll(async () => {
    work = await tempDir('ha-quick-start-');
    copyFileSync(path.join(repoRoot, 'boss.json'), path.join(work.dir, 'boss.json'));
    zenohPort = await findFreePort();
    httpPort = await findFreePort();
    daemon = startDaemon(['run', 'boss.json', ...busArgs, '--bridge-listen', `tcp/127.0.0.1:${zenohPort}`, '--no-multicast-scouting', '--http', `127.0.0.1:${httpPort}`], { cwd: work.dir });
    await daemon.waitForLog((l) => l.msg === 'ready', 'ready', 90_000);
  });

  afterAll(async () => {
    await stopAll();
    await work?.cleanup();
  });

  test('boss.json + demo_hero.py: frames and readings archived, numpy and json read them back, SIGTERM exits 0 (and stops a managed bridge)', async () => {
    const demo = startGroupProcess('demo_hero.py', pythonBin(), [path.join(repoRoot, 'examples', 'demo_hero.py'), `tcp/127.0.0.1:${zenohPort}`, '--count', String(FRAMES), '--period', '0.1'], {
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const demoExit = await demo.exited;
    expect(demoExit, demo.tail()).toEqual({ code: 0, signal: null });
    expect(demo.stdout).toContain(`published ${FRAMES} frames and ${FRAMES} readings`);

    const images = path.join(work.dir, 'archive', 'images');
    const readings = path.join(work.dir, 'archive', 'readings');
    const count = (dir: string): number => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).length : 0);
    await waitFor(() => count(images) === FRAMES && count(readings) === FRAMES, `${FRAMES} images and ${FRAMES} readings`, 60_000).catch((err: Error) => {
      throw new Error(`${err.message} (have ${count(images)} images, ${count(readings)} readings)\n${daemon.tail()}`);
    });

    if (managedBridge) {
      // The managed bridge: its pid from the daemon's log, to check that SIGTERM stops it too.
      const bridgePid = Number(daemon.logs().find((l) => l.msg === 'Zenoh bridge ready')?.bridgePid);
      expect(bridgePid).toBeGreaterThan(0);
      daemon.kill('SIGTERM');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
      expect(daemon.logs().some((l) => l.msg === 'Zenoh bridge stopped' && l.bridgePid === bridgePid)).toBe(true);
      expect(() => process.kill(bridgePid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    } else {
      // No bridge process: the daemon's own session, on the endpoint asked for, and its spill
      // file's series on /metrics.
      expect(daemon.logs().some((l) => /bridge/i.test(String(l.msg)))).toBe(false);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^heros_archiver_receive_spill_bytes 0$/m);
      expect(metrics).toMatch(/^heros_archiver_receive_spilled_total \d+$/m);
      expect(metrics).toMatch(/^heros_archiver_bus_connected 1$/m);
      const open = daemon.logs().find((l) => l.msg === 'in-process Zenoh session open');
      expect(open?.settings).toMatchObject({ 'listen/endpoints': JSON.stringify([`tcp/127.0.0.1:${zenohPort}`]), 'scouting/multicast/enabled': 'false' });
      daemon.kill('SIGTERM');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
      expect(daemon.logs().some((l) => l.msg === 'in-process Zenoh session closed')).toBe(true);
    }
    expect(daemon.logs().filter((l) => atLeast(l, 'error'))).toEqual([]);

    const report = JSON.parse(runPython(CHECK_WITH_PYTHON, '', [work.dir, String(FRAMES)]).toString()) as { images: string[]; readings: string[] };
    expect(report.images).toEqual(['testimg-0000-0.npy', 'testimg-0000-1.npy', 'testimg-0001-0.npy', 'testimg-0001-1.npy', 'testimg-0002-0.npy', 'testimg-0002-1.npy']);
    expect(report.readings).toHaveLength(FRAMES);
    expect(readdirSync(images).sort()).toEqual(report.images);
  }, 240_000);
});
