/**
 * Rows per second of ~100-byte records into Arrow IPC files: ArrowArchiver (row check, batch of
 * `--batch` rows, append to the .arrows stream, finalise to .arrow) against a Python pyarrow
 * writer given the same records in the same run, with the same batch size.
 *
 *   PATH=.tools/node/bin:$PATH node bench/arrow.ts [--rows 409600] [--batch 1024] [--concurrency 1024]
 *        [--fsync none|batch] [--repeat 3] [--dir D]
 *
 * `--batch` is ArrowArchiver's `batch_rows` and `--concurrency` its `concurrency` (both default
 * to ArrowArchiver's defaults); pyarrow writes the same batches one after another.
 *
 * ArrowArchiver is fed through storeBatch, as the daemon's queue feeds it (`batch` events per
 * call); store() per row is measured too, for comparison.
 *
 * Both sides get the records already decoded (Node: HEROS values as the archiver receives them;
 * Python: dicts read from a JSON-lines file before the clock starts), so the numbers compare
 * the tabular writers, not the bus or the spool. After one unmeasured pass of the Node writers
 * (steady state, as in a long-running daemon), the writers take turns `--repeat` times; each
 * run's rates are printed, then the median ratio (the machine may be shared and noisy).
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
  options: {
    rows: { type: 'string', default: '409600' },
    batch: { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '1024' },
    fsync: { type: 'string', default: 'none' },
    repeat: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const concurrency = Math.max(batch, Number(values.concurrency));
const fsync = values.fsync as 'none' | 'batch';
const repeat = Math.max(1, Number(values.repeat));
const dir = await mkdtemp(path.join(values.dir ?? tmpdir(), 'ha-bench-arrow-'));

/** Record i: an int, two floats, a bool and text; about 100 bytes as JSON. */
function record(i: number): Record<string, unknown> {
  // Floats as the HEROS decoder gives them: a whole float is a PyFloat, not an int.
  return { id: i, ts: pyFloat(1_700_000_000.125 + i / 1000), value: pyFloat(Math.sin(i) * 100), ok: i % 3 !== 0, sensor: `lab-2/cryostat-${i % 16}/stage-temperature` };
}

try {
  const records = Array.from({ length: rows }, (_, i) => record(i));
  const avgBytes = Math.round(JSON.stringify(records.slice(0, 1000)).length / 1000);

  // --- Node: ArrowArchiver, fed as the queue feeds it: storeBatch calls of `batch` events (the
  // events of one turn of the event loop, up to batch_rows) while fewer than `concurrency`
  // events are in flight; for comparison, store() per row, `concurrency` calls in flight. ---
  let runs = 0;
  async function runNode(mode: 'batch' | 'row'): Promise<{ appendSec: number; sec: number; bytes: number }> {
    // A folder per run: deleting files between runs slows the next run's file creation on a
    // file system mounted with `discard` (all is deleted at the end).
    const out = path.join(dir, `node-${mode}-${++runs}`);
    const { options } = validateOptions(
      ArrowArchiver.optionsSchema,
      { object_selector: '*', event_name: 'bench', save_template: `${out}/{{ source }}.arrow`, batch_rows: batch, batch_ms: 1000, concurrency, fsync, max_file_bytes: 2 ** 40 },
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
    let events = 0;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const launch = (n: number, call: () => Promise<void>): void => {
      events += n;
      call().then(
        () => {
          events -= n;
          wake?.();
        },
        (err: unknown) => {
          failure ??= err;
          events -= n;
          wake?.();
        },
      );
    };
    const until = async (ok: () => boolean): Promise<void> => {
      while (!ok()) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    };
    for (let i = 0; i < rows; ) {
      const n = Math.min(batch, rows - i);
      await until(() => events + n <= concurrency);
      const first = i;
      const receivedAt = Date.now();
      if (mode === 'batch') {
        launch(n, async () => {
          const calls = [];
          for (let j = 0; j < n; j++) calls.push({ source: 'cryostat', payload: records[first + j] as never, metadata: {}, attempt: 1, key: undefined, receivedAt, metadataInOrder: noMetadata });
          const outcomes = await archiver.storeBatch(calls, signal);
          if (outcomes.some((o) => o !== undefined)) throw new Error(`rows not stored: ${String(outcomes.find((o) => o !== undefined))}`);
        });
      } else {
        for (let j = 0; j < n; j++) launch(1, () => archiver.store('cryostat', records[first + j] as never, {}, { signal, attempt: 1, key: undefined, receivedAt, metadataInOrder: noMetadata }));
      }
      i += n;
    }
    await until(() => events === 0);
    if (failure !== undefined) throw failure;
    const appendSec = (performance.now() - t0) / 1000;
    await (archiver as unknown as { onStop(): Promise<void> }).onStop.call(archiver).catch(() => undefined);
    const sec = (performance.now() - t0) / 1000;
    return { appendSec, sec, bytes: (await stat(path.join(out, 'cryostat.arrow'))).size };
  }

  // --- Python: pyarrow RecordBatch.from_pylist + RecordBatchStreamWriter, same batches ---
  const jsonl = path.join(dir, 'records.jsonl');
  await writeFile(jsonl, records.map((r) => JSON.stringify(r)).join('\n'));
  const runPython = (): { appendSec: number; sec: number } => {
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
      path.join(dir, `py-${++runs}.arrow`),
      String(batch),
      fsync,
    ],
    { encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(py.stderr);
  const [appendSec, sec] = py.stdout.trim().split(' ').map(Number) as [number, number];
  return { appendSec, sec };
  };

  const fmt = (r: number): string => `${Math.round(r).toLocaleString('en-US')} rows/s`;
  console.log(`records: ${rows.toLocaleString('en-US')} of ~${avgBytes} bytes (JSON), batch ${batch} rows, concurrency ${concurrency}, fsync ${fsync}`);
  const line = (name: string, sec: number, appendSec: number, extra = ''): string =>
    `${name.padEnd(34)} ${fmt(rows / sec).padStart(16)}  (${sec.toFixed(2)} s: rows ${appendSec.toFixed(2)} s, finishing ${(sec - appendSec).toFixed(2)} s${extra})`;
  // The machine may be shared: the writers take turns, and the median ratio is the result.
  // One unmeasured pass first: the daemon runs for months, so its steady state (compiled
  // code) is what compares with pyarrow's native writer.
  await runNode('batch');
  await runNode('row');
  const ratios: number[] = [];
  const rowRatios: number[] = [];
  for (let r = 1; r <= repeat; r++) {
    const node = await runNode('batch');
    const perRow = await runNode('row');
    const py = runPython();
    console.log(`run ${r} of ${repeat}`);
    console.log(line('  heros-archiver ArrowArchiver', node.sec, node.appendSec, `; ${(node.bytes / 2 ** 20).toFixed(1)} MiB`));
    console.log(line('    same, store() per row', perRow.sec, perRow.appendSec));
    console.log(line('  pyarrow stream writer', py.sec, py.appendSec));
    ratios.push(py.sec / node.sec);
    rowRatios.push(py.sec / perRow.sec);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(`ratio (ArrowArchiver / pyarrow): median ${median(ratios).toFixed(2)} (runs ${range(ratios)}); store() per row: median ${median(rowRatios).toFixed(2)} (${range(rowRatios)})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
