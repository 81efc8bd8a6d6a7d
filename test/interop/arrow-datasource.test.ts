/**
 * A real HEROS LocalDatasourceHERO publishes `observable_data` through the real bridge; the
 * daemon's ArrowArchiver writes a row per reading; pyarrow and DuckDB read the finished file
 * back and give the same readings, with the types Python sent.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findFreePort } from '../../src/bus/bridge-process.js';
import { tempDir } from '../helpers/harness.js';
import { pythonBin, repoRoot, runPython } from '../helpers/python.js';
import { startTestBridge, stopAll, uniqueName, waitFor, type TestBridge } from './helpers.js';
import { actorStats, atLeast, startDaemon, startGroupProcess, type DaemonProcess } from './processes.js';

const EVENTS = 300;

const READ_BACK = String.raw`
import json, sys
import pyarrow.ipc as ipc, duckdb
t = ipc.open_file(sys.argv[1]).read_all()
cols = ["id", "value", "unit", "inbound", "time", "raw_value", "raw_unit", "calibrated"]
rows = [[r["source"]] + [r[c] for c in cols] for r in t.select(["source"] + cols).to_pylist()]
sources = sorted(set(t.column("source").to_pylist()))
types = {f.name: str(f.type) for f in t.schema}
con = duckdb.connect()
con.register("readings", t)
by_id = con.execute("select id, count(*), sum(raw_value) from readings group by id order by id").fetchall()
print(json.dumps({"rows": rows, "sources": sources, "types": types, "by_id": [[i, n, s] for i, n, s in by_id]}))
`;

describe('ArrowArchiver archives a real HEROS datasource', () => {
  let tb: TestBridge;
  let work: { dir: string; cleanup: () => Promise<void> };
  let daemon: DaemonProcess;
  let port: number;
  const name = uniqueName('cryostat');

  beforeAll(async () => {
    work = await tempDir('ha-datasource-');
    tb = await startTestBridge();
    port = await findFreePort();
    const manifest = path.join(work.dir, 'boss.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        _id: 'telemetry',
        classname: 'ArrowArchiver',
        arguments: { object_selector: name, event_name: 'observable_data', batch_ms: 5, time_key: 'time', save_template: `${work.dir}/archive/{{ source }}.arrow` },
      }),
    );
    daemon = startDaemon(['run', manifest, '--zenoh', tb.url, '--root', work.dir, '--state-dir', path.join(work.dir, 'state'), '--dead-letter-dir', path.join(work.dir, 'dead-letter'), '--http', `127.0.0.1:${port}`], {
      cwd: work.dir,
    });
    await daemon.waitForLog((l) => l.msg === 'ready', 'ready', 90_000);
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    await work?.cleanup();
  });

  test('one row per reading, read back by pyarrow and DuckDB with the values and types Python published', async () => {
    const peer = startGroupProcess('datasource-peer.py', pythonBin(), [path.join(repoRoot, 'test/interop/python/datasource-peer.py'), name, tb.endpoint, String(EVENTS)], {
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    expect(await peer.exited, peer.tail()).toEqual({ code: 0, signal: null });
    const published = peer.stdout.filter((l) => l.startsWith('[')).map((l) => JSON.parse(l) as Record<string, unknown>[]);
    expect(published).toHaveLength(EVENTS);
    await waitFor(async () => (await actorStats(port, 'telemetry'))?.stored === EVENTS, `${EVENTS} events stored`, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await actorStats(port, 'telemetry'))}\n${daemon.tail()}`);
    });
    expect((await actorStats(port, 'telemetry'))?.deadLettered).toBe(0);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.logs().filter((l) => atLeast(l, 'warn'))).toEqual([]);

    const back = JSON.parse(runPython(READ_BACK, '', [path.join(work.dir, 'archive', `${name}.arrow`)]).toString()) as {
      rows: unknown[][];
      sources: string[];
      types: Record<string, string>;
      by_id: [string, number, number][];
    };
    const cols = ['id', 'value', 'unit', 'inbound', 'time', 'raw_value', 'raw_unit', 'calibrated'];
    expect(back.rows).toEqual(published.flat().map((r) => [name, ...cols.map((c) => r[c])]));
    expect(back.sources).toEqual([name]);
    expect(back.types).toMatchObject({ id: 'string', value: 'null', unit: 'string', inbound: 'int64', time: 'double', raw_value: 'double', raw_unit: 'string', calibrated: 'bool', source: 'string', received_at: 'timestamp[ms, tz=UTC]' });
    const sum = (id: string): number => published.flat().filter((r) => r.id === id).reduce((a, r) => a + (r.raw_value as number), 0);
    expect(back.by_id.map(([id, n]) => [id, n])).toEqual([['P1', EVENTS], ['T1', EVENTS], ['V1', EVENTS]]);
    for (const [id, , s] of back.by_id) expect(s).toBeCloseTo(sum(id), 9);
  }, 180_000);
});
