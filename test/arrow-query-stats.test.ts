import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { type ArrowQuery, type ArrowQueryCounters, formatQuery, queryArrow } from '../src/arrow-query.js';
import { fileSchema, type Row, rowsToBatch } from '../src/formats/arrow-table.js';
import { ArrowStreamFile } from '../src/storage/arrow-stream-file.js';
import { tempDir } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

const SCHEMA = fileSchema([
  { name: 't', kind: 'int64' },
  { name: 'v', kind: 'float64' },
  { name: 'label', kind: 'utf8' },
]);

/** Rows of `sources` (round robin) at received_at = t = from, from + 1, … (n rows); t null where `nullT(i)`. */
function rows(sources: string[], from: number, n: number, nullT: (i: number) => boolean = () => false): Row[] {
  return Array.from({ length: n }, (_, i) => ({ source: sources[i % sources.length]!, receivedAt: from + i, values: [nullT(i) ? null : from + i, (from + i) / 10, `r${from + i}`] }));
}

/** Writes `batches` of rows as a stream and finalises it (the archiver's path), or leaves it a stream. */
async function write(file: string, batches: Row[][], finalize = true): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const f = await ArrowStreamFile.create(file, SCHEMA, 'none');
  for (const b of batches) await f.append(rowsToBatch(SCHEMA, b));
  if (finalize) await f.finalize();
  else await f.close();
}

/**
 * Overwrites everything of an `.arrow` file between its leading magic and its footer (the
 * record batches) with "A"s, keeping the footer with the schema, the statistics and the batch
 * offsets: reading a batch then fails ("Expected to read 1094795585 metadata bytes"), reading
 * the footer does not.
 */
async function corruptBatches(file: string): Promise<void> {
  const bytes = await readFile(file);
  const footerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(bytes.byteLength - 10, true); // footer, int32 length, "ARROW1"
  const footerStart = bytes.byteLength - 10 - footerLen;
  const first = 8; // "ARROW1\0\0"
  expect(footerStart).toBeGreaterThan(first);
  const h = await open(file, 'r+');
  try {
    await h.write(Buffer.alloc(footerStart - first, 0x41), 0, footerStart - first, first);
  } finally {
    await h.close();
  }
}

/** What a query gives, as plain rows (in order). */
async function run(q: ArrowQuery): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const b of queryArrow(q)) out.push(...plain(b));
  return out;
}

function plain(b: RecordBatch): Record<string, unknown>[] {
  return b.toArray().map((r) => Object.fromEntries(b.schema.fields.map((f) => [f.name, typeof r[f.name] === 'bigint' ? Number(r[f.name]) : r[f.name]])));
}

/** The reference: every file read whole (before any corruption), filtered row by row. */
function reference(tables: Map<string, Table>, q: { source?: string; start?: number; end?: number; timeColumn?: string }): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [, table] of [...tables].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const b of table.batches) {
      const col = b.getChild(q.timeColumn ?? 'received_at');
      if (col === null && (q.start !== undefined || q.end !== undefined)) continue;
      plain(b).forEach((r, i) => {
        if (q.source !== undefined && r.source !== q.source) return;
        if (col !== null) {
          const t = Number(col.get(i));
          if (q.start !== undefined && !(t >= q.start)) return;
          if (q.end !== undefined && !(t < q.end)) return;
        }
        out.push(r);
      });
    }
  }
  return out;
}

describe('queryArrow skips files by their statistics', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('gives the same rows as reading everything, without reading the files that cannot match', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const dir = path.join(t.dir, 'archive');
    const p = (n: string): string => path.join(dir, n);
    await write(p('a/1.arrow'), [rows(['robot-a'], 1000, 50), rows(['robot-a'], 1050, 50)]);
    await write(p('a/2.arrow'), [rows(['robot-a'], 2000, 100)]);
    await write(p('b/1.arrow'), [rows(['robot-b'], 1000, 100)]);
    await write(p('mixed.arrow'), [rows(['robot-a', 'robot-b'], 3000, 100)]);
    // t is null in some rows: a null time compares as Number(null), 0.
    await write(p('nulls.arrow'), [rows(['robot-c'], 5000, 20, (i) => i % 2 === 0)]);
    // A file without statistics (an older archiver's) and a stream still being written.
    const old = new Table([rowsToBatch(SCHEMA, rows(['robot-a'], 1500, 10))]);
    await writeFile(p('old.arrow'), tableToIPC(old, 'file'));
    await write(p('z/live.arrow'), [rows(['robot-a'], 2500, 10)], false);

    const names = ['a/1.arrow', 'a/2.arrow', 'b/1.arrow', 'mixed.arrow', 'nulls.arrow', 'old.arrow', 'z/live.arrows'];
    const tables = new Map<string, Table>();
    for (const n of names) tables.set(n, tableFromIPC(await readFile(p(n))));

    // The statistics are in the footer's schema, where pyarrow sees them too.
    const meta = JSON.parse(
      runPython(
        `import sys, json, pyarrow.ipc as ipc
r = ipc.open_file(sys.argv[1])
print(json.dumps({k.decode(): v.decode() for k, v in r.schema.metadata.items()}), r.read_all().num_rows)`,
        '',
        [p('a/1.arrow')],
      )
        .toString()
        .split(' 100')[0]!,
    );
    expect(meta).toEqual({
      'heros_archiver.stats': '1',
      'heros_archiver.batches': '2',
      'heros_archiver.rows': '100',
      'heros_archiver.sources': '["robot-a"]',
      'heros_archiver.received_at.min': '1000',
      'heros_archiver.received_at.max': '1099',
      'heros_archiver.received_at.nulls': '0',
      'heros_archiver.t.min': '1000',
      'heros_archiver.t.max': '1099',
      'heros_archiver.t.nulls': '0',
      'heros_archiver.v.min': '100',
      'heros_archiver.v.max': '109.9',
      'heros_archiver.v.nulls': '0',
    });
    expect(tables.get('nulls.arrow')!.schema.metadata.get('heros_archiver.t.nulls')).toBe('10');

    // Every query against the reference, with the files read and skipped.
    const cases: [ArrowQuery & { start?: number; end?: number }, number, number][] = [
      [{}, 7, 0],
      [{ start: 1040, end: 1060 }, 4, 3], // a/1, b/1, old, the stream
      [{ source: 'robot-a', start: 1040, end: 1060 }, 3, 4], // a/1, old, the stream
      [{ source: 'robot-b' }, 4, 3], // b/1, mixed, old, the stream
      [{ start: 2000, end: 2001 }, 3, 4], // a/2 (start is inclusive), old, the stream
      [{ start: 1100, end: 2000 }, 2, 5], // old, the stream (end is exclusive)
      [{ start: 3050, timeColumn: 't' }, 4, 3], // mixed, nulls (non-null t 5001…), old, the stream
      [{ start: -5, end: 5, timeColumn: 't' }, 3, 4], // nulls: its null t are 0
      [{ start: 205, end: 205.5, timeColumn: 'v' }, 3, 4], // v = t / 10: a/2, old, the stream
      [{ start: 0, timeColumn: 'nope' }, 1, 6], // the stream is read; the files' footers lack the column
    ];
    for (const [q, read, skipped] of cases) {
      const counters: ArrowQueryCounters = { filesRead: 0, filesSkipped: 0 };
      const got = await run({ dir, ...q, counters });
      expect(got, JSON.stringify(q)).toEqual(reference(tables, q));
      expect(counters, JSON.stringify(q)).toEqual({ filesRead: read, filesSkipped: skipped });
    }
    expect(await run({ dir, start: 1040, end: 1060 })).toHaveLength(20 + 20); // a/1 and b/1

    // Now the files outside [2000, 2100) lose their batches: only their footers are intact.
    for (const n of ['a/1.arrow', 'b/1.arrow', 'mixed.arrow', 'nulls.arrow']) await corruptBatches(p(n));
    await expect(run({ files: [p('a/1.arrow')] })).rejects.toThrow();
    const counters: ArrowQueryCounters = { filesRead: 0, filesSkipped: 0 };
    const got = await run({ dir, start: 2000, end: 2100, counters });
    expect(got).toEqual(reference(tables, { start: 2000, end: 2100 }));
    expect(got.map((r) => r.received_at)).toEqual(Array.from({ length: 100 }, (_, i) => 2000 + i)); // a/2
    expect(counters).toEqual({ filesRead: 3, filesSkipped: 4 });

    // The statistics of a file are not part of the query's output.
    const ipc = Buffer.concat(await Array.fromAsync(formatQuery(queryArrow({ dir, source: 'robot-a', start: 2000, end: 2100 }), 'arrow'), (c) => Buffer.from(c)));
    const back = tableFromIPC(ipc);
    expect(back.numRows).toBe(100);
    expect([...back.schema.metadata.keys()]).toEqual([]);
  });
});
