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
 */
import { type FileHandle, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type RecordBatch, RecordBatchStreamReader, RecordBatchStreamWriter, type Schema, Table, tableToIPC } from 'apache-arrow';
import { writeFileAtomic } from './atomic-file.js';

/** Whether appended batches are forced to the device before an append resolves. */
export type ArrowFsync = 'none' | 'batch';

/** The stream file that becomes `finalPath` (`x.arrow` → `x.arrows`). */
export function streamPathOf(finalPath: string): string {
  return `${finalPath}s`;
}

/** Serialises one batch as IPC stream messages; `withSchema` adds the schema message first. */
function encodeBatch(batch: RecordBatch, withSchema: boolean): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.write(batch);
  const bytes = writer.toUint8Array(true);
  if (withSchema) return bytes;
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

  private constructor(finalPath: string, schema: Schema, handle: FileHandle, fsync: ArrowFsync) {
    this.finalPath = finalPath;
    this.streamPath = streamPathOf(finalPath);
    this.schema = schema;
    this.#handle = handle;
    this.#fsync = fsync;
    this.openedAt = Date.now();
  }

  /** Creates `<finalPath>s`; fails with EEXIST when it (or the final file) exists. */
  static async create(finalPath: string, schema: Schema, fsync: ArrowFsync): Promise<ArrowStreamFile> {
    await mkdir(path.dirname(finalPath), { recursive: true });
    if (await exists(finalPath)) throw Object.assign(new Error(`${finalPath} exists`), { code: 'EEXIST' });
    const handle = await open(streamPathOf(finalPath), 'wx');
    return new ArrowStreamFile(finalPath, schema, handle, fsync);
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
    const bytes = encodeBatch(batch, this.#bytes === 0);
    try {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, this.#bytes + done);
        done += bytesWritten;
      }
      if (this.#fsync === 'batch') await handle.datasync();
    } catch (err) {
      // A torn batch in the middle of the stream would make every later batch unreadable.
      await handle.truncate(this.#bytes).catch(() => this.close());
      throw err;
    }
    this.#bytes += bytes.byteLength;
    this.#rows += batch.numRows;
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
    return finalizeStreamFile(this.streamPath, { fsync: this.#fsync });
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
 */
export async function finalizeStreamFile(streamPath: string, opts: { fsync?: ArrowFsync } = {}): Promise<FinalizeResult> {
  if (!streamPath.endsWith('.arrows')) throw new Error(`not a stream file: ${streamPath}`);
  const finalPath = streamPath.slice(0, -1);
  if (await exists(finalPath)) {
    // The rename happened; only the removal did not.
    await unlink(streamPath).catch(ignoreEnoent);
    return { file: finalPath, rows: 0, tornBytes: 0 };
  }
  const bytes = await readFile(streamPath);
  const { batches, schema, goodBytes } = readCompleteBatches(bytes);
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  if (schema === undefined || batches.length === 0) {
    await unlink(streamPath).catch(ignoreEnoent);
    return { file: undefined, rows: 0, tornBytes: bytes.byteLength - goodBytes };
  }
  const ipc = tableToIPC(new Table(schema, batches), 'file');
  await writeFileAtomic(finalPath, [ipc], opts.fsync === 'none' ? 'none' : 'file');
  await unlink(streamPath).catch(ignoreEnoent);
  return { file: finalPath, rows, tornBytes: bytes.byteLength - goodBytes };
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
  let n = 0;
  batches.forEach((b, i) => (n += encodeBatch(b, i === 0).byteLength));
  return n;
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
