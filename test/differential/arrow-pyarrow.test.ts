import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NdArray, pyFloat, type PyValue } from '../../src/heros/values.js';
import { startBoss, tempDir, until } from '../helpers/harness.js';
import { runPython } from '../helpers/python.js';

const N = 200;

function f64(values: number[]): NdArray {
  return new NdArray('float64', [values.length], new Uint8Array(new Float64Array(values).buffer));
}
function i32(values: number[]): NdArray {
  return new NdArray('<i4', [values.length], new Uint8Array(new Int32Array(values).buffer));
}

/** Event i of the corpus, and the row pyarrow must read back for it (JSON-able). */
function corpus(i: number): { payload: PyValue; row: Record<string, unknown> } {
  const text = ['plain', 'Ångström', '温度計', '🧪 emoji', '', 'quote " and, comma'][i % 6]!;
  const bytes = new Uint8Array([i & 0xff, 0, 0xff, 0x80]);
  const big = 2n ** 62n + BigInt(i);
  const payload = {
    id: i,
    big,
    temperature: i % 4 === 0 ? pyFloat(20 + i) : 20.25 + i, // whole floats arrive as PyFloat
    ok: i % 3 === 0,
    label: i % 7 === 5 ? null : text,
    nothing: null,
    raw: bytes,
    spectrum: f64([i, i + 0.5, -i]),
    counts: i32([i, -i]),
  };
  const row = {
    id: i,
    big: big.toString(),
    temperature: i % 4 === 0 ? 20 + i : 20.25 + i,
    ok: i % 3 === 0,
    label: i % 7 === 5 ? null : text,
    nothing: null,
    raw: Buffer.from(bytes).toString('hex'),
    spectrum: [i, i + 0.5, -i],
    counts: [i, -i || 0],
  };
  return { payload, row };
}

const READ_BACK = `
import json, sys, glob
import pyarrow as pa, pyarrow.ipc as ipc, duckdb
files = sorted(glob.glob(sys.argv[1] + '/**/*.arrow', recursive=True))
tables = [ipc.open_file(f).read_all() for f in files]
t = pa.concat_tables(tables)
def cell(v):
    if isinstance(v, bytes): return v.hex()
    if isinstance(v, int) and abs(v) > 2**53: return str(v)
    if hasattr(v, 'timestamp'): return int(v.timestamp() * 1000)
    return v
rows = [{k: cell(v) for k, v in r.items()} for r in t.to_pylist()]
# DuckDB 2.0 has no read_arrow without an extension: it scans the pyarrow table instead.
con = duckdb.connect()
con.register('t', t)
duck = con.execute('select id, big::varchar, temperature, ok, label, raw, spectrum, counts, epoch_ms(received_at) from t order by id').fetchall()
duck_types = {d[0]: str(d[1]) for d in con.execute('select * from t limit 0').description}
json.dump({'files': [f.rsplit('/', 1)[1] for f in files], 'schema': {f.name: str(f.type) for f in t.schema},
           'nullable': {f.name: f.nullable for f in t.schema}, 'rows': rows,
           'duck': [[cell(x) for x in r] for r in duck], 'duck_types': duck_types}, sys.stdout)
`;

describe('ArrowArchiver files read back by pyarrow and DuckDB', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('gives the same rows, types and values as were published', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'archive');
    const { boss, publish } = await startBoss(
      {
        _id: 'tab',
        classname: 'ArrowArchiver',
        arguments: {
          object_selector: '*',
          event_name: 'reading',
          // concurrency > 1: batches hold at most `concurrency` rows (each store waits for its batch)
          concurrency: 16,
          batch_rows: 16,
          batch_ms: 5,
          metadata_columns: ['run'],
          max_file_rows: 64, // several files
          save_template: `${out}/{{ source }}/{{ date }}.arrow`,
        },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const t0 = Date.now();
    for (let i = 0; i < N; i++) await publish('sensor', 'reading', [corpus(i).payload, { run: `run-${i % 2}` }]);
    await until(() => boss.status()[0]?.stats?.stored === N, 20_000, 'all stored');
    expect(boss.status()[0]?.stats?.deadLettered).toBe(0);
    await boss.stop(); // finalises the open .arrows file
    const t1 = Date.now();

    const names = await readdir(path.join(out, 'sensor'));
    expect(names.filter((n) => n.endsWith('.arrows'))).toEqual([]);
    expect(names.length).toBeGreaterThanOrEqual(4);

    const got = JSON.parse(runPython(READ_BACK, '', [out]).toString()) as {
      schema: Record<string, string>;
      nullable: Record<string, boolean>;
      rows: Record<string, unknown>[];
      duck: unknown[][];
      duck_types: Record<string, string>;
    };
    expect(got.schema).toEqual({
      source: 'string',
      received_at: 'timestamp[ms, tz=UTC]',
      run: 'string',
      id: 'int64',
      big: 'int64',
      temperature: 'double',
      ok: 'bool',
      label: 'string',
      nothing: 'null',
      raw: 'binary',
      spectrum: 'fixed_size_list<item: double not null>[3]',
      counts: 'fixed_size_list<item: int32 not null>[2]',
    });
    expect(got.nullable.source).toBe(false);
    expect(got.nullable.temperature).toBe(true);
    const rows = [...got.rows].sort((a, b) => (a.id as number) - (b.id as number));
    expect(rows.length).toBe(N);
    rows.forEach((r, i) => {
      const { received_at: at, ...rest } = r;
      expect(at as number).toBeGreaterThanOrEqual(t0 - 1);
      expect(at as number).toBeLessThanOrEqual(t1);
      expect(rest).toEqual({ source: 'sensor', run: `run-${i % 2}`, ...corpus(i).row });
    });
    // Whole floats stay floats: pyarrow gives 20.0 as a double, not an int column.
    expect(got.schema.temperature).toBe('double');

    expect(got.duck.length).toBe(N);
    got.duck.forEach((r, i) => {
      const e = corpus(i).row;
      expect(r.slice(0, 8)).toEqual([e.id, e.big, e.temperature, e.ok, e.label, e.raw, e.spectrum, e.counts]);
      expect(r[8]).toBe(rows[i]!.received_at);
    });
    expect(got.duck_types).toMatchObject({ id: 'BIGINT', temperature: 'DOUBLE', ok: 'BOOLEAN', label: 'VARCHAR', raw: 'BLOB', received_at: 'TIMESTAMP WITH TIME ZONE' });
  }, 60_000);
});
