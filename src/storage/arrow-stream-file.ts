/**
 * An Arrow file written in two stages, so that a crash never leaves a file pyarrow cannot read:
 *
 *   rows ─► <name>.arrows   Arrow IPC *stream*, appended one record batch at a time (and
 *                           fdatasync'd per batch): readable up to its last complete batch
 *        ─► <name>.arrow    Arrow IPC *file* (footer, random access), written atomically
 *                           (temporary file + rename) when the stream is finalised; then the
 *                           `.arrows` file is removed
 *
 * A `.arrows` file found at start is what a crash left: {@link finalizeStreamFile} keeps its
 * complete batches and writes the `.arrow` file. If the `.arrow` file already exists the crash
 * came between the rename and the removal, and the stream is only removed.
 *
 * The `.arrow` file carries statistics of its rows in its schema's custom metadata (read from
 * the footer alone, so a query skips a file that cannot match without reading its batches):
 *
 *   heros_archiver.stats      "1" (the version of what follows)
 *   heros_archiver.batches    record batches in the file (stats of a file rewritten by
 *                             another tool with this metadata copied are not trusted)
 *   heros_archiver.rows       rows in the file
 *   heros_archiver.sources    JSON list of the distinct `source` values (left out beyond 1000)
 *   heros_archiver.<column>.min / .max / .nulls
 *                             for every number and timestamp column (`received_at` too): the
 *                             least and greatest non-null, non-NaN value (as JS number text;
 *                             left out when there is none) and how many values are null
 *
 * Its modification time is set to the stream's, i.e. when its last batch was written, not when
 * it was finalised: ArrowArchiver takes the schema of the newest file at start.
 */
import { type FileHandle, link, mkdir, open, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Data, Precision, RecordBatch, RecordBatchStreamReader, RecordBatchStreamWriter, Schema, Table, tableToIPC, TimeUnit, type Timestamp, Type } from 'apache-arrow';
import { SCHEMA_SINCE_KEY } from '../formats/arrow-table.js';
import { type FsyncPolicy, writeFileAtomic, writeThroughTemporary } from './atomic-file.js';
import { type MessageBlock, messageEnd, recordBatchMessage, scanStream, schemaMessage, type StreamLayout, writeAt, writeIpcFile } from './arrow-ipc-file.js';
import { temporaryName } from './write-workers.js';

/** Whether appended batches are forced to the device before an append resolves. */
export type ArrowFsync = 'none' | 'batch';

/** The stream file that becomes `finalPath` (`x.arrow` → `x.arrows`). */
export function streamPathOf(finalPath: string): string {
  return `${finalPath}s`;
}

/** Serialises one batch as IPC stream messages (its dictionaries too), without the schema message. */
function encodeBatch(batch: RecordBatch): Uint8Array {
  const message = recordBatchMessage(batch);
  if (message !== undefined) return message;
  const writer = new RecordBatchStreamWriter();
  writer.write(batch);
  const bytes = writer.toUint8Array(true);
  // The schema message has no body: 0xFFFFFFFF, int32 metadata length (padded), metadata.
  const metaLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(4, true);
  return bytes.subarray(8 + metaLen);
}

/** An open `.arrows` stream file being appended to. */
export class ArrowStreamFile {
  /** The `.arrow` name the stream becomes when finalised. */
  readonly finalPath: string;
  readonly streamPath: string;
  readonly schema: Schema;
  readonly openedAt: number;
  #handle: FileHandle | undefined;
  #bytes = 0;
  #rows = 0;
  #fsync: ArrowFsync;
  readonly #stats: FileStats;

  private constructor(finalPath: string, schema: Schema, handle: FileHandle, fsync: ArrowFsync, bytes: number) {
    this.finalPath = finalPath;
    this.streamPath = streamPathOf(finalPath);
    this.schema = schema;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#fsync = fsync;
    this.#stats = new FileStats(schema);
    this.openedAt = Date.now();
  }

  /**
   * Creates `<finalPath>s` holding the schema message; fails with EEXIST when it (or the final
   * file) exists. The stream appears under its name with the schema already in it, so neither
   * a reader nor a crash finds it empty (an empty file is not an Arrow stream).
   */
  static async create(finalPath: string, schema: Schema, fsync: ArrowFsync): Promise<ArrowStreamFile> {
    const dir = path.dirname(finalPath);
    await mkdir(dir, { recursive: true });
    if (await exists(finalPath)) throw Object.assign(new Error(`${finalPath} exists`), { code: 'EEXIST' });
    const streamPath = streamPathOf(finalPath);
    const head = schemaMessage(schema);
    const tmp = temporaryName(dir, path.basename(streamPath));
    await writeFile(tmp, head, { flag: 'wx' });
    try {
      await placeNew(tmp, streamPath);
    } finally {
      await unlink(tmp).catch(ignoreEnoent);
    }
    const handle = await open(streamPath, 'r+');
    return new ArrowStreamFile(finalPath, schema, handle, fsync, head.byteLength);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }
  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }
  get closed(): boolean {
    return this.#handle === undefined;
  }

  /**
   * Appends one batch; resolves once it is written (and synced with fsync "batch"). A failed
   * write is cut off again, so the stream stays readable and later appends stay valid.
   */
  async append(batch: RecordBatch): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) throw new Error(`${this.streamPath} is closed`);
    const bytes = encodeBatch(batch);
    try {
      await writeAt(handle, bytes, this.#bytes);
      if (this.#fsync === 'batch') await handle.datasync();
    } catch (err) {
      // A torn batch in the middle of the stream would make every later batch unreadable.
      await handle.truncate(this.#bytes).catch(() => this.close());
      throw err;
    }
    this.#bytes += bytes.byteLength;
    this.#rows += batch.numRows;
    this.#stats.add(batch);
  }

  /** Closes the handle (idempotent); the `.arrows` file stays for {@link finalizeStreamFile}. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /** Closes and turns the stream into the `.arrow` file. */
  async finalize(): Promise<FinalizeResult> {
    await this.close();
    return finalizeStreamFile(this.streamPath, { fsync: this.#fsync, stats: this.#stats });
  }
}

/** What finalising a stream file found. */
export interface FinalizeResult {
  /** The `.arrow` file, or undefined when the stream held no complete batch (then removed). */
  readonly file: string | undefined;
  readonly rows: number;
  /** Bytes after the last complete batch (a torn write), dropped. */
  readonly tornBytes: number;
}

/**
 * Turns a `.arrows` stream file into its `.arrow` file, keeping every complete batch, and
 * removes the stream. Safe to run again after a crash at any point of it.
 *
 * The batches are not decoded: their bytes are copied behind a schema message carrying the
 * statistics (see arrow-ipc-file.ts). `stats` are those gathered while the stream was written;
 * without them (a stream a crash left), or when they do not cover the batches found, they are
 * gathered by decoding one batch at a time. A stream whose framing the scan does not know (or
 * with dictionary batches, which ArrowStreamFile does not write) is decoded whole and written
 * again.
 */
export async function finalizeStreamFile(streamPath: string, opts: { fsync?: ArrowFsync; stats?: FileStats } = {}): Promise<FinalizeResult> {
  if (!streamPath.endsWith('.arrows')) throw new Error(`not a stream file: ${streamPath}`);
  const finalPath = streamPath.slice(0, -1);
  if (await exists(finalPath)) {
    // The rename happened; only the removal did not.
    await unlink(streamPath).catch(ignoreEnoent);
    return { file: finalPath, rows: 0, tornBytes: 0 };
  }
  const fsync = opts.fsync === 'none' ? 'none' : 'file';
  const src = await open(streamPath, 'r');
  let result: FinalizeResult;
  let streamStat;
  try {
    streamStat = await src.stat({ bigint: true });
    const size = Number(streamStat.size);
    const layout = await scanStream(src, size);
    if (layout === undefined || layout.messages.some((m) => m.kind === 'dictionary')) {
      // Not written by this module (it writes no dictionaries): decoded whole.
      result = await rewriteDecoded(await src.readFile(), finalPath, fsync);
    } else {
      let complete = layout;
      let stats = opts.stats;
      if (stats === undefined || stats.batches !== layout.messages.length) ({ complete, stats } = await statsByDecoding(src, layout));
      // Bytes after the last complete message, unless a writer closed the stream there.
      const tornBytes = complete.ended ? 0 : size - complete.end;
      if (stats.batches === 0) result = { file: undefined, rows: 0, tornBytes };
      else {
        const schema = withStats(complete.schema, stats.entries());
        await writeThroughTemporary(finalPath, temporaryName(path.dirname(finalPath), path.basename(finalPath)), fsync, (out) => writeIpcFile(src, complete, schema, out));
        result = { file: finalPath, rows: stats.rows, tornBytes };
      }
    }
  } finally {
    await src.close();
  }
  if (result.file !== undefined) {
    // When its rows were written (a finalisation at stop or at the next start comes later).
    await utimes(finalPath, Number(streamStat.atimeNs) / 1e9, Number(streamStat.mtimeNs) / 1e9).catch(() => undefined);
  }
  await unlink(streamPath).catch(ignoreEnoent);
  return result;
}

function withStats(schema: Schema, stats: Map<string, string>): Schema {
  return new Schema(schema.fields, new Map([...schema.metadata].filter(([k]) => k === SCHEMA_SINCE_KEY || !k.startsWith(STATS_PREFIX)).concat([...stats])), schema.dictionaries);
}

/** Bytes of consecutive batches decoded by one reader when statistics are gathered by decoding. */
const DECODE_RUN_BYTES = 2 * 1024 * 1024;

/**
 * Statistics of a stream's batches, by decoding them (with the stream's schema message before
 * them) in runs of up to {@link DECODE_RUN_BYTES}, so memory stays bounded whatever the size of
 * the stream. A batch that does not decode ends the stream there, as a torn write would.
 */
async function statsByDecoding(src: FileHandle, layout: StreamLayout): Promise<{ complete: StreamLayout; stats: FileStats }> {
  const stats = new FileStats(layout.schema);
  const head = await readAt(src, layout.schemaBlock.offset, layout.schemaBlock.metaDataLength);
  const all = layout.messages;
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && messageEnd(all[j]!) - all[i]!.offset <= DECODE_RUN_BYTES) j++;
    const decoded = await decodeRun(src, head, all.slice(i, j));
    for (const batch of decoded) stats.add(batch);
    if (decoded.length < j - i) {
      const messages = all.slice(0, i + decoded.length);
      return { complete: { ...layout, messages, end: messageEnd(messages.at(-1) ?? layout.schemaBlock), ended: false }, stats };
    }
    i = j;
  }
  return { complete: layout, stats };
}

/** The batches of consecutive `messages` decoded by one reader, up to the first that does not decode. */
async function decodeRun(src: FileHandle, head: Buffer, messages: readonly MessageBlock[]): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  try {
    const from = messages[0]!.offset;
    const body = await readAt(src, from, messageEnd(messages.at(-1)!) - from);
    const reader = RecordBatchStreamReader.from(Buffer.concat([head, body]));
    reader.open();
    while (batches.length < messages.length) {
      const next = reader.next();
      if (next.done === true) break;
      batches.push(next.value as RecordBatch);
    }
  } catch {
    // The batches read so far stand.
  }
  return batches;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  if (bytesRead < length) throw Object.assign(new Error(`short read at ${position}`), { code: 'EIO' });
  return buf;
}

/** The fallback: the whole stream decoded and written again as an IPC file. */
async function rewriteDecoded(bytes: Uint8Array, finalPath: string, fsync: FsyncPolicy): Promise<FinalizeResult> {
  const { batches, schema, goodBytes } = readCompleteBatches(bytes);
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  const tornBytes = bytes.byteLength - goodBytes;
  if (schema === undefined || batches.length === 0) return { file: undefined, rows: 0, tornBytes };
  const schemaWithStats = withStats(schema, fileStats(batches));
  const ipc = tableToIPC(new Table(schemaWithStats, batches.map((b) => new RecordBatch(schemaWithStats, b.data))), 'file');
  await writeFileAtomic(finalPath, [ipc], fsync);
  return { file: finalPath, rows, tornBytes };
}

/** The batches of an IPC stream up to the first incomplete message. */
export function readCompleteBatches(bytes: Uint8Array): { schema: Schema | undefined; batches: RecordBatch[]; goodBytes: number } {
  const batches: RecordBatch[] = [];
  let schema: Schema | undefined;
  let goodBytes = 0;
  try {
    const reader = RecordBatchStreamReader.from(bytes);
    reader.open();
    schema = reader.schema;
    for (const batch of reader) {
      batches.push(batch);
    }
    goodBytes = bytes.byteLength;
  } catch {
    // A torn tail: everything read before it is complete. The exact size is recomputed from
    // a clean re-encoding, which is what the `.arrow` file holds anyway.
    goodBytes = batches.length === 0 ? 0 : estimateBytes(batches);
  }
  return { schema, batches, goodBytes };
}

function estimateBytes(batches: readonly RecordBatch[]): number {
  let n = schemaMessage(batches[0]!.schema).byteLength;
  for (const b of batches) n += encodeBatch(b).byteLength;
  return n;
}

/**
 * Gives the file `tmp` the name `target`, failing with EEXIST when `target` exists: a hard link
 * does both at once; on a file system without hard links (some network shares) `target` is
 * checked, then `tmp` renamed to it.
 */
async function placeNew(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  if (await exists(target)) throw Object.assign(new Error(`${target} exists`), { code: 'EEXIST' });
  await rename(tmp, target);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function ignoreEnoent(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/** The prefix of the statistics keys in an `.arrow` file's schema metadata. */
export const STATS_PREFIX = 'heros_archiver.';
/** The version of the statistics {@link fileStats} writes. */
export const STATS_VERSION = '1';
/** Beyond this many distinct sources a file's source list is left out. */
const MAX_SOURCES = 1000;

/**
 * Statistics of the rows of `batches` as schema metadata entries (see the top of this file).
 * The column of the batches' schema named `source` gives the source list; every Int, Float
 * (32, 64) and Timestamp (ms) column gives min, max and nulls.
 */
export function fileStats(batches: readonly RecordBatch[]): Map<string, string> {
  const stats = new FileStats(batches[0]?.schema);
  for (const b of batches) stats.add(b);
  return stats.entries();
}

interface Range {
  min: number | bigint | undefined;
  max: number | bigint | undefined;
  nulls: number;
}

/** {@link fileStats} gathered one batch at a time, as batches are appended. */
export class FileStats {
  #batches = 0;
  #rows = 0;
  readonly #fields: Schema['fields'];
  readonly #sourceColumn: number;
  /** Distinct sources; undefined beyond {@link MAX_SOURCES}. */
  #sources: Set<string> | undefined = new Set();
  /** Per column: its range, or undefined for columns without one. */
  readonly #ranges: (Range | undefined)[];

  constructor(schema: Schema | undefined) {
    this.#fields = schema?.fields ?? [];
    this.#sourceColumn = this.#fields.findIndex((f) => f.name === 'source' && f.type.typeId === Type.Utf8);
    this.#ranges = this.#fields.map((f, j) => (j !== this.#sourceColumn && hasRange(f.type) ? { min: undefined, max: undefined, nulls: 0 } : undefined));
  }

  /** Record batches added. */
  get batches(): number {
    return this.#batches;
  }
  get rows(): number {
    return this.#rows;
  }

  add(batch: RecordBatch): void {
    this.#batches++;
    this.#rows += batch.numRows;
    const children = batch.data.children;
    if (this.#sources !== undefined && this.#sourceColumn >= 0) this.#sources = addDistinctStrings(this.#sources, children[this.#sourceColumn]!);
    this.#ranges.forEach((range, j) => {
      if (range !== undefined) addRange(range, children[j]!);
    });
  }

  entries(): Map<string, string> {
    const out = new Map<string, string>([
      [`${STATS_PREFIX}stats`, STATS_VERSION],
      [`${STATS_PREFIX}batches`, String(this.#batches)],
      [`${STATS_PREFIX}rows`, String(this.#rows)],
    ]);
    this.#fields.forEach((field, j) => {
      if (j === this.#sourceColumn) {
        if (this.#sources !== undefined) out.set(`${STATS_PREFIX}sources`, JSON.stringify([...this.#sources].sort()));
        return;
      }
      const range = this.#ranges[j];
      if (range === undefined) return;
      if (range.min !== undefined) {
        out.set(`${STATS_PREFIX}${field.name}.min`, String(Number(range.min)));
        out.set(`${STATS_PREFIX}${field.name}.max`, String(Number(range.max)));
      }
      out.set(`${STATS_PREFIX}${field.name}.nulls`, String(range.nulls));
    });
    return out;
  }
}

function isValid(d: Data, i: number): boolean {
  const bitmap = d.nullBitmap;
  if (d.nullCount === 0 || bitmap === undefined || bitmap.byteLength === 0) return true;
  const k = d.offset + i;
  return (bitmap[k >> 3]! & (1 << (k & 7))) !== 0;
}

const decoder = new TextDecoder();

/** Adds the distinct strings of a Utf8 chunk to `out` (decoding a value only when it differs from the one before); undefined beyond {@link MAX_SOURCES}. */
function addDistinctStrings(out: Set<string>, d: Data): Set<string> | undefined {
  const offsets = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  let prevStart = -1;
  let prevEnd = -1;
  for (let i = 0; i < d.length; i++) {
    if (!isValid(d, i)) continue;
    const start = offsets[i]!; // sliced data: offsets and values start at the slice
    const end = offsets[i + 1]!;
    if (prevStart >= 0 && sameBytes(bytes, prevStart, prevEnd, start, end)) continue;
    prevStart = start;
    prevEnd = end;
    out.add(decoder.decode(bytes.subarray(start, end)));
    if (out.size > MAX_SOURCES) return undefined;
  }
  return out;
}

function sameBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (; a < aEnd; a++, b++) if (bytes[a] !== bytes[b]) return false;
  return true;
}

/** Number types with a range in the statistics. */
function hasRange(type: Schema['fields'][number]['type']): boolean {
  return (
    type.typeId === Type.Int ||
    (type.typeId === Type.Float && (type as { precision: Precision }).precision !== Precision.HALF) ||
    (type.typeId === Type.Timestamp && (type as Timestamp).unit === TimeUnit.MILLISECOND)
  );
}

/** Widens `range` by the non-null, non-NaN values of a number chunk and counts its nulls. */
function addRange(range: Range, d: Data): void {
  const values = d.values as ArrayLike<number | bigint>;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    addBigRange(range, d, values);
    return;
  }
  const numbers = values as ArrayLike<number>;
  let min = range.min as number | undefined;
  let max = range.max as number | undefined;
  const allValid = d.nullCount === 0;
  for (let i = 0; i < d.length; i++) {
    if (!allValid && !isValid(d, i)) {
      range.nulls++;
      continue;
    }
    const v = numbers[i]!; // sliced data: values start at the slice, the bitmap does not
    if (v !== v) continue; // NaN
    if (min === undefined || v < min) min = v;
    if (max === undefined || v > max) max = v;
  }
  range.min = min;
  range.max = max;
}

/**
 * {@link addRange} for 64-bit integers without a BigInt per value: the least and greatest are
 * found by index, comparing the two 32-bit halves (high signed for int64, unsigned otherwise;
 * low unsigned), and only they become BigInts.
 */
function addBigRange(range: Range, d: Data, values: BigInt64Array | BigUint64Array): void {
  const halves = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const signed = values instanceof BigInt64Array;
  const high = (i: number): number => (signed ? halves[2 * i + 1]! | 0 : halves[2 * i + 1]!);
  const less = (i: number, j: number): boolean => high(i) < high(j) || (high(i) === high(j) && halves[2 * i]! < halves[2 * j]!);
  const allValid = d.nullCount === 0;
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < d.length; i++) {
    if (!allValid && !isValid(d, i)) {
      range.nulls++;
      continue;
    }
    if (lo < 0 || less(i, lo)) lo = i;
    if (hi < 0 || less(hi, i)) hi = i;
  }
  if (lo < 0) return;
  const min = values[lo]!;
  const max = values[hi]!;
  if (range.min === undefined || min < range.min) range.min = min;
  if (range.max === undefined || max > range.max) range.max = max;
}
