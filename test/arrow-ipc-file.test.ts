import { copyFile, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatch, RecordBatchStreamWriter, Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSchema, type Row, rowsToBatch } from '../src/formats/arrow-table.js';
import { recordBatchMessage, scanStream } from '../src/storage/arrow-ipc-file.js';
import { ArrowStreamFile, fileStats, finalizeStreamFile, readCompleteBatches, STATS_PREFIX } from '../src/storage/arrow-stream-file.js';
import { tempDir } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

const SCHEMA = fileSchema([
  { name: 'n', kind: 'int64' },
  { name: 'v', kind: 'float64' },
  { name: 'f', kind: 'float32' },
  { name: 'ok', kind: 'bool' },
  { name: 'label', kind: 'utf8' },
  { name: 'raw', kind: 'binary' },
  { name: 'vec', kind: 'float32[3]' },
]);

/** Rows of batch `b`: every column, with nulls and a NaN, sources alternating. */
function rows(b: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const k = b * 100 + i;
    return {
      source: k % 3 === 0 ? 'cam-1' : 'cam-2',
      receivedAt: 1_700_000_000_000 + k,
      values: [k % 7 === 0 ? null : BigInt(k - 50), k % 11 === 0 ? Number.NaN : k / 8, k / 4, k % 2 === 0, k % 5 === 0 ? null : `label ${k} é`, Uint8Array.of(k & 255, 1), [k, k + 1, k + 2]],
    };
  });
}

/**
 * What the decode-and-encode path (apache-arrow's file writer) writes for the batches of stream
 * `bytes`. Its file has no schema message after the magic, only the footer's schema; the
 * copied file has both (as pyarrow writes files), so the two are compared by content.
 */
function reference(bytes: Uint8Array): Uint8Array {
  const { schema: streamSchema, batches } = readCompleteBatches(bytes);
  const schema = new Schema(streamSchema!.fields, new Map([...streamSchema!.metadata, ...fileStats(batches)]));
  return tableToIPC(new Table(schema, batches.map((b) => new RecordBatch(schema, b.data))), 'file');
}

/** Same schema (with metadata), batches and bytes of every batch. */
function expectSameContent(file: Uint8Array, ref: Uint8Array): void {
  const a = tableFromIPC(file);
  const b = tableFromIPC(ref);
  expect(a.batches.length).toBe(b.batches.length);
  expect([...a.schema.metadata]).toEqual([...b.schema.metadata]);
  expect(Buffer.from(tableToIPC(a, 'stream')).equals(Buffer.from(tableToIPC(b, 'stream')))).toBe(true);
}

describe('finalising an Arrow stream by copying its batches', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  async function writeStream(final: string, batches: number, fsync: 'none' | 'batch' = 'none'): Promise<ArrowStreamFile> {
    const file = await ArrowStreamFile.create(final, SCHEMA, fsync);
    for (let b = 0; b < batches; b++) await file.append(rowsToBatch(SCHEMA, rows(b, 37 + b)));
    return file;
  }

  it('writes what decoding and encoding writes, with the statistics gathered while writing', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    const file = await writeStream(final, 5, 'batch');
    const stream = await readFile(`${final}s`);
    const res = await file.finalize();
    expect(res).toEqual({ file: final, rows: 37 + 38 + 39 + 40 + 41, tornBytes: 0 });
    const written = await readFile(final);
    expectSameContent(written, reference(stream));
    expect(await readdir(t.dir)).toEqual(['x.arrow']);
    // The statistics are those of the rows: nulls, NaN skipped, both sources.
    const meta = tableFromIPC(written).schema.metadata;
    expect(meta.get(`${STATS_PREFIX}rows`)).toBe('195');
    expect(meta.get(`${STATS_PREFIX}batches`)).toBe('5');
    expect(meta.get(`${STATS_PREFIX}sources`)).toBe('["cam-1","cam-2"]');
    expect(meta.get(`${STATS_PREFIX}n.min`)).toBe('-49');
    expect(meta.get(`${STATS_PREFIX}n.max`)).toBe(String(440 - 50));
    expect(meta.get(`${STATS_PREFIX}n.nulls`)).toBe(String(rowsOf(5).filter((k) => k % 7 === 0).length));
  });

  it('a stream left by a crash (no statistics at hand) gives the same file', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    const file = await writeStream(final, 4);
    await file.close();
    const stream = await readFile(`${final}s`);
    expect(await finalizeStreamFile(`${final}s`)).toEqual({ file: final, rows: 37 + 38 + 39 + 40, tornBytes: 0 });
    expectSameContent(await readFile(final), reference(stream));
  });

  it('pyarrow reads every value and the statistics of a copied file', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    await (await writeStream(final, 3)).finalize();
    const out = runPython(
      `import sys, json, math, pyarrow.ipc as ipc
r = ipc.open_file(sys.argv[1])
t = r.read_all()
t.validate(full=True)
# The file holds the stream format after its 8-byte magic: a stream reader gets the same table.
s = ipc.open_stream(open(sys.argv[1], 'rb').read()[8:]).read_all()
assert repr(s.to_pylist()) == repr(t.to_pylist()) and s.schema.equals(t.schema, check_metadata=True), 'stream view differs'
print(json.dumps({'batches': r.num_record_batches, 'rows': t.num_rows, 'n': t.column('n').to_pylist()[:8], 'label': t.column('label').to_pylist()[:6],
  'vec': t.column('vec').to_pylist()[1], 'raw': list(t.column('raw').to_pylist()[2]), 'nan': math.isnan(t.column('v').to_pylist()[0]),
  'sources': t.schema.metadata[b'heros_archiver.sources'].decode()}))`,
      '',
      [final],
    ).toString();
    expect(JSON.parse(out)).toEqual({
      batches: 3,
      rows: 37 + 38 + 39,
      n: [null, -49, -48, -47, -46, -45, -44, null],
      label: [null, 'label 1 é', 'label 2 é', 'label 3 é', 'label 4 é', null],
      vec: [1, 2, 3],
      raw: [2, 1],
      nan: true,
      sources: '["cam-1","cam-2"]',
    });
  });

  it('a torn last batch and a batch with broken metadata end the file where they start', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    await (await writeStream(final, 4)).close();
    const h = await open(`${final}s`, 'r');
    const size = (await h.stat()).size;
    const layout = (await scanStream(h, size))!;
    await h.close();
    expect(layout.messages.map((m) => m.kind)).toEqual(['record', 'record', 'record', 'record']);
    expect(layout.end).toBe(size);
    // Torn: a crash in the middle of the fourth batch.
    await copyFile(`${final}s`, path.join(t.dir, 'torn.arrows'));
    await truncate(path.join(t.dir, 'torn.arrows'), size - 5);
    expect(await finalizeStreamFile(path.join(t.dir, 'torn.arrows'))).toEqual({ file: path.join(t.dir, 'torn.arrow'), rows: 37 + 38 + 39, tornBytes: size - 5 - layout.messages[3]!.offset });
    // Broken: the third batch's metadata overwritten (its framing kept).
    const third = layout.messages[2]!;
    const bytes = await readFile(`${final}s`);
    bytes.fill(0x41, third.offset + 8, third.offset + third.metaDataLength);
    await writeFile(path.join(t.dir, 'broken.arrows'), bytes);
    expect(await finalizeStreamFile(path.join(t.dir, 'broken.arrows'))).toEqual({ file: path.join(t.dir, 'broken.arrow'), rows: 37 + 38, tornBytes: size - third.offset });
    const rowsIn = async (name: string): Promise<number> => tableFromIPC(await readFile(path.join(t.dir, name))).numRows;
    expect(await rowsIn('torn.arrow')).toBe(37 + 38 + 39);
    expect(await rowsIn('broken.arrow')).toBe(37 + 38);
  });

  it('finds every message whatever falls across the edges of its read window: many small batches, one larger than the window', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'w.arrow');
    const file = await ArrowStreamFile.create(final, SCHEMA, 'none');
    // Batches of 1 to 9 rows (uneven sizes), then one of ~400 KiB (beyond the 256 KiB window), then more small ones.
    const sizes = [...Array.from({ length: 600 }, (_, i) => 1 + (i % 9)), 6000, ...Array.from({ length: 50 }, (_, i) => 1 + (i % 4))];
    for (let b = 0; b < sizes.length; b++) await file.append(rowsToBatch(SCHEMA, rows(b, sizes[b]!)));
    await file.close();
    const stream = await readFile(`${final}s`);
    const handle = await open(`${final}s`, 'r');
    const layout = await scanStream(handle, stream.byteLength).finally(() => handle.close());
    expect(layout?.messages.length).toBe(sizes.length);
    expect(layout?.end).toBe(stream.byteLength);
    expect(Math.max(...layout!.messages.map((m) => m.metaDataLength + m.bodyLength))).toBeGreaterThan(256 * 1024);
    // The same blocks a reader of the whole stream finds.
    expect(readCompleteBatches(stream).batches.map((b) => b.numRows)).toEqual(sizes);
    const res = await finalizeStreamFile(`${final}s`, { fsync: 'none' });
    expect(res).toEqual({ file: final, rows: sizes.reduce((a, b) => a + b, 0), tornBytes: 0 });
    expectSameContent(await readFile(final), reference(stream));

    // A schema message larger than the window (300 KB of schema metadata).
    const big = new Schema(SCHEMA.fields, new Map([['note', 'x'.repeat(300_000)]]));
    const other = await ArrowStreamFile.create(path.join(t.dir, 'm.arrow'), big, 'none');
    for (let b = 0; b < 3; b++) await other.append(new RecordBatch(big, rowsToBatch(SCHEMA, rows(b, 5)).data));
    await other.close();
    const h2 = await open(path.join(t.dir, 'm.arrows'), 'r');
    const l2 = await scanStream(h2, (await h2.stat()).size).finally(() => h2.close());
    expect(l2?.messages.length).toBe(3);
    expect(l2?.schema.metadata.get('note')?.length).toBe(300_000);
  });

  it('a crash-left stream whose third batch does not decode keeps the two before it (decoded in runs)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    await (await writeStream(final, 6)).close();
    const bytes = await readFile(`${final}s`);
    const h = await open(`${final}s`, 'r');
    const layout = (await scanStream(h, bytes.byteLength))!;
    await h.close();
    // The third batch replaced by a well-framed batch of another schema (one int64 column):
    // its header reads, so only decoding against the stream's schema finds it wrong.
    const other = fileSchema([{ name: 'n', kind: 'int64' }]);
    const alien = recordBatchMessage(rowsToBatch(other, [{ source: 's', receivedAt: 0, values: [1] }]))!;
    const third = layout.messages[2]!;
    const spliced = Buffer.concat([bytes.subarray(0, third.offset), alien, bytes.subarray(third.offset + third.metaDataLength + third.bodyLength)]);
    await writeFile(path.join(t.dir, 'alien.arrows'), spliced);
    const res = await finalizeStreamFile(path.join(t.dir, 'alien.arrows'));
    expect(res).toEqual({ file: path.join(t.dir, 'alien.arrow'), rows: 37 + 38, tornBytes: spliced.byteLength - third.offset });
    const table = tableFromIPC(await readFile(path.join(t.dir, 'alien.arrow')));
    expect(table.numRows).toBe(37 + 38);
    expect(table.schema.metadata.get(`${STATS_PREFIX}rows`)).toBe(String(37 + 38));
  });

  it('a stream closed with an end-of-stream marker has no torn bytes', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const writer = new RecordBatchStreamWriter();
    writer.write(rowsToBatch(SCHEMA, rows(0, 10)));
    writer.write(rowsToBatch(SCHEMA, rows(1, 12)));
    writer.close();
    const closed = path.join(t.dir, 'closed.arrows');
    await writeFile(closed, await writer.toUint8Array());
    expect(await finalizeStreamFile(closed)).toEqual({ file: path.join(t.dir, 'closed.arrow'), rows: 22, tornBytes: 0 });
    expect(tableFromIPC(await readFile(path.join(t.dir, 'closed.arrow'))).numRows).toBe(22);
  });

  it('a stream in the old framing (no continuation markers) is decoded and written again', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const writer = new RecordBatchStreamWriter({ writeLegacyIpcFormat: true });
    writer.write(rowsToBatch(SCHEMA, rows(0, 10)));
    writer.write(rowsToBatch(SCHEMA, rows(1, 12)));
    const legacy = path.join(t.dir, 'old.arrows');
    await writeFile(legacy, writer.toUint8Array(true));
    expect(await finalizeStreamFile(legacy)).toMatchObject({ file: path.join(t.dir, 'old.arrow'), rows: 22 });
    const table = tableFromIPC(await readFile(path.join(t.dir, 'old.arrow')));
    expect(table.numRows).toBe(22);
    expect(table.schema.metadata.get(`${STATS_PREFIX}rows`)).toBe('22');
    expect((await stat(legacy).catch(() => undefined)) === undefined).toBe(true);
  });
});

describe('file statistics of 64-bit integer columns', () => {
  it('min and max over both halves of each value, signed and unsigned, with nulls', () => {
    const schema = fileSchema([
      { name: 'i', kind: 'int64' },
      { name: 'u', kind: 'uint64' },
    ]);
    const ints = [0n, -1n, 2n ** 32n, -(2n ** 32n) - 5n, 2n ** 62n + 3n, -(2n ** 63n), 2n ** 63n - 1n, 4_294_967_295n, -4_294_967_296n, 7n];
    const uints = [0n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 32n - 1n, 2n ** 32n, 5n, 2n ** 63n - 1n, 1n, 2n ** 40n, 3n];
    // Two batches, nulls in each; every permutation order is covered by rotating the values.
    for (let rot = 0; rot < ints.length; rot++) {
      const r = (a: bigint[]): bigint[] => [...a.slice(rot), ...a.slice(0, rot)];
      const is = r(ints);
      const us = r(uints);
      const row = (k: number): Row => ({ source: 's', receivedAt: k, values: [k === 3 ? null : is[k]!, k === 6 ? null : us[k]!] });
      const b1 = rowsToBatch(schema, [0, 1, 2, 3, 4].map(row));
      const b2 = rowsToBatch(schema, [5, 6, 7, 8, 9].map(row));
      const stats = fileStats([b1, b2]);
      const live = (a: bigint[], skip: number): bigint[] => a.filter((_, k) => k !== skip);
      const min = (a: bigint[]): bigint => a.reduce((x, y) => (y < x ? y : x));
      const max = (a: bigint[]): bigint => a.reduce((x, y) => (y > x ? y : x));
      expect(stats.get(`${STATS_PREFIX}i.min`)).toBe(String(Number(min(live(is, 3)))));
      expect(stats.get(`${STATS_PREFIX}i.max`)).toBe(String(Number(max(live(is, 3)))));
      expect(stats.get(`${STATS_PREFIX}u.min`)).toBe(String(Number(min(live(us, 6)))));
      expect(stats.get(`${STATS_PREFIX}u.max`)).toBe(String(Number(max(live(us, 6)))));
      expect(stats.get(`${STATS_PREFIX}i.nulls`)).toBe('1');
      expect(stats.get(`${STATS_PREFIX}u.nulls`)).toBe('1');
    }
  });
});

/** The row numbers k of batches 0 … count-1 as {@link rows} makes them. */
function rowsOf(count: number): number[] {
  return Array.from({ length: count }, (_, b) => Array.from({ length: 37 + b }, (_, i) => b * 100 + i)).flat();
}
