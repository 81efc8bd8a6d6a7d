/**
 * Reading ArrowArchiver files back: the rows of one source in a time range, streamed file by
 * file and batch by batch, so memory holds one record batch, not the archive.
 *
 *   files (.arrow, and .arrows still being written) ─► batches ─► runs of matching rows
 *        (sorted by name)                                        (batch.slice, no copy)
 *                                                          ─► formatQuery: json | csv | arrow
 *
 * A finished `.arrow` file whose footer carries statistics (written when its stream was
 * finalised, see arrow-stream-file.ts) is skipped without reading its batches when its time
 * range or its sources exclude the query; files without them (older files, streams still
 * being written) are read as before. The statistics are part of the file they describe, so
 * they cannot go stale; skipping gives exactly the rows reading would.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema } from 'apache-arrow';
import { RECEIVED_AT_COLUMN, SOURCE_COLUMN } from './formats/arrow-table.js';
import { readCompleteBatches, STATS_PREFIX, STATS_VERSION } from './storage/arrow-stream-file.js';

/** What to read. */
export interface ArrowQuery {
  /** Folder searched recursively for `.arrow` (and `.arrows`) files. One of `dir`, `files`. */
  readonly dir?: string;
  /** Files to read, in this order. */
  readonly files?: readonly string[];
  /** Only rows of this source (HERO name). @default all sources */
  readonly source?: string;
  /** Only rows at or after this time (ms since the epoch, a Date or ISO text). @default no bound */
  readonly start?: number | Date | string;
  /** Only rows before this time (exclusive). @default no bound */
  readonly end?: number | Date | string;
  /** The time column `start`/`end` apply to (a number column of the payload, or the receive time). @default "received_at" */
  readonly timeColumn?: string;
  /** Also read `.arrows` files being written (up to their last complete batch). @default true */
  readonly includeStreams?: boolean;
  /** Filled in while the query runs: how many files were read and skipped. */
  readonly counters?: ArrowQueryCounters;
}

/** What a query did with the files it looked at (see {@link ArrowQuery.counters}). */
export interface ArrowQueryCounters {
  /** Files whose batches were read. */
  filesRead: number;
  /** Files skipped after reading only their footer: their statistics (or schema) exclude the query. */
  filesSkipped: number;
}

/**
 * The folder an ArrowArchiver's files are under, from its options: `archive_dir`, else the
 * fixed folder part of `save_template` before its first `{` (`/srv/a/{{ source }}/x.arrow` →
 * `/srv/a`); undefined when the template has no fixed folder. Not yet inside the root check:
 * resolve it like any rendered path.
 */
export function arrowArchiveDir(options: { readonly save_template: string; readonly archive_dir?: string | undefined }): string | undefined {
  if (options.archive_dir !== undefined) return options.archive_dir;
  const t = options.save_template;
  const cut = t.search(/\{[{%#]/);
  const fixed = cut < 0 ? t : t.slice(0, cut);
  const slash = fixed.lastIndexOf('/');
  return slash <= 0 ? undefined : fixed.slice(0, slash);
}

/** Output formats of {@link formatQuery}. */
export type QueryFormat = 'json' | 'csv' | 'arrow';

function toMs(t: number | Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t === 'number') return t;
  const ms = (t instanceof Date ? t : new Date(t)).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${String(t)}`);
  return ms;
}

async function listArrowFiles(dir: string, includeStreams: boolean): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && (e.name.endsWith('.arrow') || (includeStreams && e.name.endsWith('.arrows'))))
    .map((e) => path.join(e.parentPath, e.name));
  // A stream is being finished when its file already exists (finishing writes `x.arrow`, then
  // removes `x.arrows`): the file holds every row of the stream, so the stream is skipped.
  const finished = new Set(files.filter((f) => f.endsWith('.arrow')));
  return files.filter((f) => !(f.endsWith('.arrows') && finished.has(f.slice(0, -1)))).sort();
}

/** The bounds and source a file must be able to match to be read. */
interface FileFilter {
  readonly source: string | undefined;
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly timeColumn: string;
}

async function* fileBatches(file: string, filter: FileFilter, counters: ArrowQueryCounters): AsyncGenerator<RecordBatch> {
  if (file.endsWith('.arrows')) {
    // Being written: read what is complete; the tail may be a batch in progress.
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Finished since it was listed: its rows are in `x.arrow` now.
      yield* fileBatches(file.slice(0, -1), filter, counters);
      return;
    }
    counters.filesRead++;
    yield* readCompleteBatches(bytes).batches;
    return;
  }
  const handle = await open(file, 'r');
  try {
    const reader = await RecordBatchReader.from(handle);
    // A file reader reads the footer (schema, statistics, batch offsets) here, no batch yet.
    await reader.open();
    const footerBatches = (reader as { numRecordBatches?: number }).numRecordBatches;
    if (!mayMatch(reader.schema, footerBatches, filter)) {
      counters.filesSkipped++;
      return;
    }
    counters.filesRead++;
    const bare = withoutStats(reader.schema);
    for await (const batch of reader) yield bare === undefined ? batch : new RecordBatch(bare, batch.data);
  } finally {
    await handle.close();
  }
}

/** The schema without the statistics (they describe the whole file, not a query's batches); undefined when it has none. */
function withoutStats(schema: Schema): Schema | undefined {
  const keys = [...schema.metadata.keys()];
  if (!keys.some((k) => k.startsWith(STATS_PREFIX))) return undefined;
  return new Schema(schema.fields, new Map([...schema.metadata].filter(([k]) => !k.startsWith(STATS_PREFIX))), schema.dictionaries);
}

/**
 * Whether a file of this schema (from its footer) may hold a matching row; false only when
 * reading it would give none. A row matches when its source is the one asked for and
 * `Number(time)` is in [start, end) — a null time is `Number(null)`, 0, so a file with null
 * times may match when 0 is in the range.
 */
function mayMatch(schema: Schema, footerBatches: number | undefined, f: FileFilter): boolean {
  const bounded = f.start !== undefined || f.end !== undefined;
  // Every batch of the file has its schema: without the time column no row matches.
  if (bounded && !schema.fields.some((x) => x.name === f.timeColumn)) return false;
  const m = schema.metadata;
  if (m.get(`${STATS_PREFIX}stats`) !== STATS_VERSION) return true;
  // Statistics copied into a file rewritten with other batches describe other rows.
  if (footerBatches === undefined || m.get(`${STATS_PREFIX}batches`) !== String(footerBatches)) return true;
  if (f.source !== undefined) {
    const text = m.get(`${STATS_PREFIX}sources`);
    if (text !== undefined) {
      let sources: unknown;
      try {
        sources = JSON.parse(text);
      } catch {
        sources = undefined;
      }
      if (Array.isArray(sources) && !sources.includes(f.source)) return false;
    }
  }
  if (!bounded) return true;
  const nullsText = m.get(`${STATS_PREFIX}${f.timeColumn}.nulls`);
  if (nullsText === undefined) return true; // no statistics of this column
  const inRange = (t: number): boolean => (f.start === undefined || t >= f.start) && (f.end === undefined || t < f.end);
  if (Number(nullsText) !== 0 && inRange(0)) return true;
  const minText = m.get(`${STATS_PREFIX}${f.timeColumn}.min`);
  const maxText = m.get(`${STATS_PREFIX}${f.timeColumn}.max`);
  if (minText === undefined || maxText === undefined) return false; // only nulls (0 is out of range) and NaNs (never in range)
  const min = Number(minText);
  const max = Number(maxText);
  if (Number.isNaN(min) || Number.isNaN(max)) return true;
  return !((f.start !== undefined && max < f.start) || (f.end !== undefined && min >= f.end));
}

/**
 * The matching rows as record batches (slices of the files' batches). Batches of different
 * files may have different schemas (a widened schema starts a new file).
 */
export async function* queryArrow(q: ArrowQuery): AsyncGenerator<RecordBatch> {
  if ((q.dir === undefined) === (q.files === undefined)) throw new TypeError('queryArrow needs exactly one of dir, files');
  const files = q.files ?? (await listArrowFiles(q.dir!, q.includeStreams ?? true));
  const start = toMs(q.start);
  const end = toMs(q.end);
  const timeColumn = q.timeColumn ?? RECEIVED_AT_COLUMN;
  const counters = q.counters ?? { filesRead: 0, filesSkipped: 0 };
  const filter: FileFilter = { source: q.source, start, end, timeColumn };
  for (const file of files) {
    for await (const batch of fileBatches(file, filter, counters)) {
      const sources = batch.getChild(SOURCE_COLUMN);
      const times = start === undefined && end === undefined ? null : batch.getChild(timeColumn);
      if (times === null && (start !== undefined || end !== undefined)) continue; // no such column in this file
      let runStart = -1;
      for (let i = 0; i <= batch.numRows; i++) {
        let match = false;
        if (i < batch.numRows) {
          match = q.source === undefined || sources?.get(i) === q.source;
          if (match && times !== null) {
            const t = Number(times.get(i));
            match = (start === undefined || t >= start) && (end === undefined || t < end);
          }
        }
        if (match && runStart < 0) runStart = i;
        if (!match && runStart >= 0) {
          yield runStart === 0 && i === batch.numRows ? batch : batch.slice(runStart, i);
          runStart = -1;
        }
      }
    }
  }
}

/** A cell as JSON: bigints exact (a number when safe), bytes as `{"$bytes": base64}`, arrays as lists. */
function jsonCell(v: unknown, isTime: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (isTime && typeof v === 'number') return new Date(v).toISOString();
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function') {
    return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), (x) => jsonCell(x, false));
  }
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, (x) => jsonCell(x, false));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function rowObjects(batch: RecordBatch): Record<string, unknown>[] {
  const names = batch.schema.fields.map((f) => f.name);
  const cols = names.map((n) => batch.getChild(n));
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, j) => (row[n] = jsonCell(cols[j]?.get(i), n === RECEIVED_AT_COLUMN)));
    out.push(row);
  }
  return out;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Serialises query results: `json` (one JSON object per line), `csv` (a header from the first
 * batch's columns; lists and bytes as JSON text) or `arrow` (one IPC stream; all batches must
 * share one schema).
 */
export async function* formatQuery(batches: AsyncIterable<RecordBatch>, format: QueryFormat): AsyncGenerator<string | Uint8Array> {
  if (format === 'arrow') {
    let schema: Schema | undefined;
    for await (const batch of batches) {
      const first = schema === undefined;
      if (schema === undefined) schema = batch.schema;
      else if (!sameSchema(schema, batch.schema)) throw new Error('the query spans files of different schemas; ask for json or csv, or narrow the time range');
      const w = new RecordBatchStreamWriter();
      w.write(batch);
      const bytes = w.toUint8Array(true);
      // Only the first batch carries the schema message: 0xFFFFFFFF, int32 length, metadata.
      yield first ? bytes : bytes.subarray(8 + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(4, true));
    }
    // End-of-stream marker (an empty stream still needs a schema, so none is written then).
    if (schema !== undefined) yield new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    return;
  }
  let header: string[] | undefined;
  for await (const batch of batches) {
    if (format === 'json') {
      for (const row of rowObjects(batch)) yield `${JSON.stringify(row)}\n`;
      continue;
    }
    if (header === undefined) {
      header = batch.schema.fields.map((f) => f.name);
      yield `${header.map(csvCell).join(',')}\n`;
    }
    for (const row of rowObjects(batch)) yield `${header.map((h) => csvCell(row[h])).join(',')}\n`;
  }
}

function sameSchema(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && String(f.type) === String(b.fields[i]!.type));
}
