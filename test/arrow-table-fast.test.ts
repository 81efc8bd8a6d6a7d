import { RecordBatchStreamWriter, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { type ColumnSpec, fileSchema, MisfitError, type Row, rowsToBatch, rowsToBatchWithBuilders, toColumnValue } from '../src/formats/arrow-table.js';
import { NdArray, PyFloat, type PyValue } from '../src/heros/values.js';
import { recordBatchMessage } from '../src/storage/arrow-ipc-file.js';

/** The IPC stream bytes of one batch. */
function ipcBytes(batch: ReturnType<typeof rowsToBatch>): Uint8Array {
  const w = new RecordBatchStreamWriter();
  w.write(batch);
  return w.toUint8Array(true);
}

/** Rows from raw values, converted as ArrowArchiver converts them. */
function rowsOf(columns: readonly ColumnSpec[], raw: readonly (readonly PyValue[])[], source = 'src'): Row[] {
  return raw.map((vals, i) => ({ source: i % 3 === 0 ? source : `${source}-ü-${i}`, receivedAt: 1_700_000_000_123 + i, values: columns.map((c, k) => toColumnValue(vals[k] ?? null, c.kind)) }));
}

/** Every cell as a plain value (lists and bytes as arrays of numbers, int64 as text). */
function readBack(bytes: Uint8Array): Record<string, unknown>[] {
  const plain = (v: unknown): unknown => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v !== null && typeof v === 'object' && Symbol.iterator in v) return Array.from(v as Iterable<unknown>, plain);
    return v;
  };
  return tableFromIPC(bytes)
    .toArray()
    .map((r) => Object.fromEntries(Object.entries(r.toJSON() as Record<string, unknown>).map(([k, v]) => [k, plain(v)])));
}

const COLUMNS: ColumnSpec[] = [
  { name: 'i64', kind: 'int64' },
  { name: 'u64', kind: 'uint64' },
  { name: 'i8', kind: 'int8' },
  { name: 'i16', kind: 'int16' },
  { name: 'i32', kind: 'int32' },
  { name: 'u8', kind: 'uint8' },
  { name: 'u16', kind: 'uint16' },
  { name: 'u32', kind: 'uint32' },
  { name: 'f32', kind: 'float32' },
  { name: 'f64', kind: 'float64' },
  { name: 'b', kind: 'bool' },
  { name: 's', kind: 'utf8' },
  { name: 'nothing', kind: 'null' },
  { name: 'bin', kind: 'binary' },
  { name: 'vec', kind: 'float32[2]' },
];

function raw(i: number): PyValue[] {
  const nul = i % 7 === 3;
  const big = [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n, -(2n ** 53n) - 1n][i % 6]!;
  return [
    nul ? null : i % 2 === 0 ? big : [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 4294967296, -4294967297, 2 ** 60][i % 7]!,
    nul ? null : i % 2 === 0 ? 2n ** 64n - 1n - BigInt(i) : [0, 1, 2 ** 32, 2 ** 53 - 1, 2 ** 63][i % 5]!,
    nul ? null : [-128, 127, 0, -1][i % 4]!,
    nul ? null : [-32768, 32767, 5][i % 3]!,
    nul ? null : i % 2 === 0 ? -(2 ** 31) : 2n ** 31n - 1n,
    nul ? null : [0, 255][i % 2]!,
    nul ? null : 65535 - i,
    nul ? null : 4294967295 - i,
    nul ? null : new PyFloat(i * 0.1),
    nul ? null : i % 2 === 0 ? Math.PI * i : new PyFloat(-i),
    nul ? null : i % 3 === 0,
    nul ? null : ['', 'plain ascii', 'ünïcödé', '😀 emoji', 'lone \ud800 surrogate', '日本語テキスト', ''][i % 7]!,
    null,
    nul ? null : new Uint8Array([i & 255, 0, 255]),
    nul ? null : new NdArray('<f4', [2], new Uint8Array(new Float32Array([i, -i]).buffer)),
  ];
}

describe('rowsToBatch (direct buffers) against the Arrow builders', () => {
  for (const n of [0, 1, 7, 8, 9, 64, 513]) {
    it(`gives the same IPC bytes and values for ${n} rows`, () => {
      const schema = fileSchema(COLUMNS);
      const rows = rowsOf(COLUMNS, Array.from({ length: n }, (_, i) => raw(i)));
      const fast = ipcBytes(rowsToBatch(schema, rows));
      const ref = ipcBytes(rowsToBatchWithBuilders(schema, rows));
      expect(readBack(fast)).toEqual(readBack(ref));
      expect(Buffer.from(fast).equals(Buffer.from(ref))).toBe(true);
    });
  }

  for (const n of [0, 1, 9, 513]) {
    it(`encodes a batch of ${n} rows as one message with the stream writer's bytes`, () => {
      const schema = fileSchema(COLUMNS);
      const rows = rowsOf(COLUMNS, Array.from({ length: n }, (_, i) => raw(i)));
      for (const batch of [rowsToBatch(schema, rows), rowsToBatchWithBuilders(schema, rows)]) {
        const full = ipcBytes(batch);
        // The writer's bytes: the schema message, then the batch message.
        const schemaEnd = 8 + new DataView(full.buffer, full.byteOffset).getInt32(4, true);
        const message = recordBatchMessage(batch)!;
        expect(message.byteLength).toBe(full.byteLength - schemaEnd);
        expect(Buffer.from(message).equals(Buffer.from(full.subarray(schemaEnd)))).toBe(true);
        const stream = Buffer.concat([full.subarray(0, schemaEnd), message]);
        expect(readBack(stream)).toEqual(readBack(full));
        expect(tableFromIPC(stream).numRows).toBe(n);
      }
    });
  }

  it('reads back the values written, nulls included', () => {
    const cols: ColumnSpec[] = [
      { name: 'n', kind: 'int64' },
      { name: 't', kind: 'utf8' },
      { name: 'f', kind: 'float64' },
      { name: 'b', kind: 'bool' },
    ];
    const schema = fileSchema(cols);
    const values: PyValue[][] = [
      [-1, 'ä', 1.5, true],
      [null, null, null, null],
      [2n ** 63n - 1n, '', new PyFloat(2), false],
      [-(2 ** 53 - 1), '😀', -0.25, true],
      [-(2n ** 63n), 'x', null, null],
    ];
    const rows = rowsOf(cols, values, 'dev');
    const table = tableFromIPC(ipcBytes(rowsToBatch(schema, rows)));
    expect(table.getChild('n')!.toArray()).toEqual(new BigInt64Array([-1n, 0n, 2n ** 63n - 1n, -(2n ** 53n - 1n), -(2n ** 63n)]));
    expect([...table.getChild('n')!].map((v) => (v === null ? null : String(v)))).toEqual(['-1', null, String(2n ** 63n - 1n), String(-(2n ** 53n - 1n)), String(-(2n ** 63n))]);
    expect([...table.getChild('t')!]).toEqual(['ä', null, '', '😀', 'x']);
    expect([...table.getChild('f')!]).toEqual([1.5, null, 2, -0.25, null]);
    expect([...table.getChild('b')!]).toEqual([true, null, false, true, null]);
    expect([...table.getChild('source')!]).toEqual(['dev', 'dev-ü-1', 'dev-ü-2', 'dev', 'dev-ü-4']);
    expect([...table.getChild('received_at')!].map(Number)).toEqual([0, 1, 2, 3, 4].map((i) => 1_700_000_000_123 + i));
    expect(table.getChild('n')!.nullCount).toBe(1);
    expect(table.getChild('t')!.nullCount).toBe(1);
  });

  it('keeps the range checks and messages of the int kinds', () => {
    expect(() => toColumnValue(2n ** 63n, 'int64')).toThrow(new MisfitError(`${2n ** 63n} is out of range for int64`));
    expect(() => toColumnValue(2 ** 63, 'int64')).toThrow(new MisfitError(`${2 ** 63} is out of range for int64`));
    expect(toColumnValue(2 ** 62, 'int64')).toBe(2n ** 62n);
    expect(() => toColumnValue(-1, 'uint64')).toThrow(new MisfitError('-1 is out of range for uint64'));
    expect(() => toColumnValue(-1n, 'uint64')).toThrow(new MisfitError('-1 is out of range for uint64'));
    expect(() => toColumnValue(128, 'int8')).toThrow(new MisfitError('128 is out of range for int8'));
    expect(() => toColumnValue(-129n, 'int8')).toThrow(new MisfitError('-129 is out of range for int8'));
    expect(() => toColumnValue(1.5, 'int64')).toThrow(new MisfitError('a number does not fit a int64 column'));
    expect(() => toColumnValue(new PyFloat(1), 'int32')).toThrow(new MisfitError('a PyFloat does not fit a int32 column'));
    expect(() => toColumnValue('x', 'float64')).toThrow(new MisfitError('a string does not fit a float64 column'));
    expect(() => toColumnValue(1, 'utf8')).toThrow(new MisfitError('a number does not fit a utf8 column'));
    expect(() => toColumnValue(true, 'null')).toThrow(new MisfitError('a boolean does not fit a null column'));
    expect(toColumnValue(2n ** 31n - 1n, 'int32')).toBe(2 ** 31 - 1);
    expect(toColumnValue(null, 'int64')).toBeNull();
    expect(toColumnValue(undefined, 'float32[3]')).toBeNull();
  });
});
