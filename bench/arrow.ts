/**
 * Rows per second of ~100-byte records into Arrow IPC files: ArrowArchiver (row check, batch of
 * `--batch` rows, append to the .arrows stream, finalise to .arrow) against a Python pyarrow
 * writer given the same records in the same run, with the same batch size.
 *
 *   PATH=.tools/node/bin:$PATH node bench/arrow.ts [--rows 200000] [--batch 64] [--fsync none|batch] [--dir D]
 *
 * ArrowArchiver is fed through storeBatch, as the daemon's queue feeds it (`batch` events per
 * call); store() per row is measured too, for comparison.
 *
 * Both sides get the records already decoded (Node: HEROS values as the archiver receives them;
 * Python: dicts read from a JSON-lines file before the clock starts), so the numbers compare
 * the tabular writers, not the bus or the spool. Prints both rates and their ratio.
 */
import '../scripts/ts-source-hook.ts';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { ArrowArchiver } = await import('../actors/arrow-archiver.ts');
const { silentLogger } = await import('../src/log.ts');
const { validateOptions } = await import('../src/options.ts');
const { pyFloat } = await import('../src/heros/values.ts');

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '200000' }, batch: { type: 'string', default: '64' }, fsync: { type: 'string', default: 'none' }, dir: { type: 'string' } },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const fsync = values.fsync as 'none' | 'batch';
const dir = await mkdtemp(path.join(values.dir ?? tmpdir(), 'ha-bench-arrow-'));

/** Record i: an int, two floats, a bool and text; about 100 bytes as JSON. */
function record(i: number): Record<string, unknown> {
  // Floats as the HEROS decoder gives them: a whole float is a PyFloat, not an int.
  return { id: i, ts: pyFloat(1_700_000_000.125 + i / 1000), value: pyFloat(Math.sin(i) * 100), ok: i % 3 !== 0, sensor: `lab-2/cryostat-${i % 16}/stage-temperature` };
}

try {
  const records = Array.from({ length: rows }, (_, i) => record(i));
  const avgBytes = Math.round(JSON.stringify(records.slice(0, 1000)).length / 1000);

  // --- Node: ArrowArchiver, fed as the queue feeds it: storeBatch with `batch` events per call
  // (the events of one turn of the event loop, up to batch_rows), and for comparison store()
  // per row with `batch` calls in flight (what it was fed before storeBatch). ---
  async function runNode(mode: 'batch' | 'row'): Promise<{ appendSec: number; sec: number; bytes: number }> {
    const out = path.join(dir, `node-${mode}`);
    const { options } = validateOptions(
      ArrowArchiver.optionsSchema,
      { object_selector: '*', event_name: 'bench', save_template: `${out}/{{ source }}.arrow`, batch_rows: batch, batch_ms: 1000, fsync, max_file_bytes: 2 ** 40 },
      'bench',
    );
    const archiver = new ArrowArchiver(options as never, {
      id: 'bench',
      classname: 'ArrowArchiver',
      logger: silentLogger(),
      root: '/',
      baseDir: dir,
      realm: 'heros',
      spoolDir: path.join(dir, 'spool'),
      drainTimeoutMs: 60_000,
    } as never);
    const signal = new AbortController().signal;
    const noMetadata = new Map();
    const t0 = performance.now();
    for (let i = 0; i < rows; i += batch) {
      const n = Math.min(batch, rows - i);
      const receivedAt = Date.now();
      if (mode === 'batch') {
        const events = [];
        for (let j = 0; j < n; j++) events.push({ source: 'cryostat', payload: records[i + j] as never, metadata: {}, attempt: 1, key: undefined, receivedAt, metadataInOrder: noMetadata });
        const outcomes = await archiver.storeBatch(events, signal);
        if (outcomes.some((o) => o !== undefined)) throw new Error(`rows not stored: ${String(outcomes.find((o) => o !== undefined))}`);
      } else {
        const stores: Promise<void>[] = [];
        for (let j = 0; j < n; j++) stores.push(archiver.store('cryostat', records[i + j] as never, {}, { signal, attempt: 1, key: undefined, receivedAt, metadataInOrder: noMetadata }));
        await Promise.all(stores);
      }
    }
    const appendSec = (performance.now() - t0) / 1000;
    await (archiver as unknown as { onStop(): Promise<void> }).onStop.call(archiver).catch(() => undefined);
    const sec = (performance.now() - t0) / 1000;
    return { appendSec, sec, bytes: (await stat(path.join(out, 'cryostat.arrow'))).size };
  }
  const node = await runNode('batch');
  const perRow = await runNode('row');

  // --- Python: pyarrow RecordBatch.from_pylist + RecordBatchStreamWriter, same batches ---
  const jsonl = path.join(dir, 'records.jsonl');
  await writeFile(jsonl, records.map((r) => JSON.stringify(r)).join('\n'));
  const py = spawnSync(
    path.join(import.meta.dirname, '..', '.venv', 'bin', 'python'),
    [
      '-c',
      `
import json, sys, time, os, datetime, pyarrow as pa, pyarrow.ipc as ipc
path, out, batch, fsync = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == 'batch'
recs = [json.loads(l) for l in open(path)]
schema = pa.schema([('source', pa.string(), False), ('received_at', pa.timestamp('ms', tz='UTC'), False), ('id', pa.int64()), ('ts', pa.float64()), ('value', pa.float64()), ('ok', pa.bool_()), ('sensor', pa.string())])
t0 = time.perf_counter()
with open(out + 's', 'wb') as f:
    w = ipc.new_stream(f, schema)
    for i in range(0, len(recs), batch):
        chunk = recs[i:i + batch]
        now = datetime.datetime.now(datetime.timezone.utc)
        rows = [dict(r, source='cryostat', received_at=now) for r in chunk]
        w.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
        f.flush()
        if fsync: os.fdatasync(f.fileno())
    w.close()
t1 = time.perf_counter()
t = ipc.open_stream(out + 's').read_all()
with ipc.new_file(out, schema) as w2: w2.write_table(t)
os.unlink(out + 's')
print(t1 - t0, time.perf_counter() - t0)
`,
      jsonl,
      path.join(dir, 'py.arrow'),
      String(batch),
      fsync,
    ],
    { encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(py.stderr);
  const [pyAppendSec, pySec] = py.stdout.trim().split(' ').map(Number) as [number, number];

  const fmt = (r: number): string => `${Math.round(r).toLocaleString('en-US')} rows/s`;
  console.log(`records: ${rows.toLocaleString('en-US')} of ~${avgBytes} bytes (JSON), batch ${batch} rows, fsync ${fsync}`);
  const line = (name: string, sec: number, appendSec: number, extra = ''): string =>
    `${name.padEnd(34)} ${fmt(rows / sec).padStart(16)}  (${sec.toFixed(2)} s: rows ${appendSec.toFixed(2)} s, finishing ${(sec - appendSec).toFixed(2)} s${extra})`;
  console.log(line('heros-archiver ArrowArchiver', node.sec, node.appendSec, `; ${(node.bytes / 2 ** 20).toFixed(1)} MiB`));
  console.log(line('  same, store() per row', perRow.sec, perRow.appendSec));
  console.log(line('pyarrow stream writer', pySec, pyAppendSec));
  console.log(`ratio (ArrowArchiver / pyarrow) ${(pySec / node.sec).toFixed(2)}  (store() per row: ${(pySec / perRow.sec).toFixed(2)})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
