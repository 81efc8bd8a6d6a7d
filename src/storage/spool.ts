/**
 * Spool: a per-actor, append-only queue on disk. It holds the events beyond an actor's memory
 * budget (Zenoh cannot be slowed, so overflow goes to disk and is stored from there in order),
 * and in durability mode `spool` it makes every event crash-safe before it counts as received.
 *
 *   append(payload) ─► queue (quota checked at once; payload referenced only until written)
 *        │ writer: one writev per batch at the end of the active segment, rolled at segmentBytes
 *        ▼
 *   written ─► group commit, at most every syncIntervalMs, for everything written since the last:
 *        │       fdatasync(segments) [+ fsync(folder) for new files] ─► append promises resolve
 *        │       checkpoint: the older of its two slots overwritten in place  (when acks moved it)
 *        │       unlink segments whose records are all acked
 *        ▼
 *   read(max) ─► large preads of contiguous runs, checksums verified ─► caller stores ─► ack(id)
 *
 * Delivery is at least once. The checkpoint holds the ack watermark: the lowest record not yet
 * acked. Records after it that were acked before a crash are handed out again after a restart
 * (acks arrive out of order and only the watermark is persisted); archivers write deterministic
 * file names, so storing such a record twice rewrites the same file.
 *
 * Memory: payloads are referenced only until written and read back from disk by `read`; what
 * stays in memory is an index of 5 to 10 bytes per record (offset, state) of the live segments.
 *
 * On-disk format (all integers little-endian), one folder per actor:
 * - `<index>.seg` (16 zero-padded decimal digits, increasing): a 32-byte header
 *   `"HASPLSEG" | u32 version=1 | u32 0 | u64 id of the first record | u32 0 | u32 crc32 of bytes 0..27`,
 *   then records `u32 length | u32 crc32(length bytes ‖ payload) | payload`. Record ids are
 *   consecutive within a segment; the header names the first, so a lost segment shifts no other.
 * - `checkpoint`: two 32-byte slots at offsets 0 and 4096 (different pages), each
 *   `"HASPLCKP" | u32 version=1 | u32 0 | u64 watermark | u32 0 | u32 crc32`. Commits overwrite the slot not holding the last watermark, in place
 *   (pwrite + fdatasync: no new file, rename or folder sync per commit); recovery takes the
 *   highest watermark of the valid slots, so a torn write leaves the previous one standing.
 *   A 32-byte file (one slot, as written before) reads the same way.
 * - `<index>.seg.corrupt-<time>`: a torn or corrupt tail (or a whole unreadable segment) moved
 *   aside by recovery; the spool never deletes data it cannot read and never reads these again.
 *
 * The checksum is CRC-32 (ISO-HDLC, as zlib and gzip) from `node:zlib`: it runs at 3–6 GB/s
 * here, against about 1.5 GB/s for a table-driven CRC-32C in TypeScript (see bench/spool.ts).
 * It covers the length field too: a zero-filled tail, which some file systems show after a
 * crash, would otherwise read as valid empty records, and a damaged length would go unseen.
 */
import { link, mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { ArchiverError } from '../errors.js';

/** The id of a spooled record: increasing in append order, across restarts too. */
export type SpoolRecordId = number & { readonly __spoolRecordId: true };

/** A record handed out by {@link Spool.read}. */
export interface SpoolRecord {
  readonly id: SpoolRecordId;
  /** A view into a buffer shared with the other records of the same read. */
  readonly payload: Uint8Array;
}

/** Options of {@link Spool.open}. */
export interface SpoolOptions {
  /** A segment file is closed and the next one started once it would grow past this size. @default 67108864 (64 MiB) */
  segmentBytes?: number;
  /**
   * Disk bytes the spool may hold: segment files, less those whose records are all acked
   * (deleted at the next commit). An append that would exceed it is refused with
   * `ARCHIVER_SPOOL_FULL`. @default 10737418240 (10 GiB)
   */
  quotaBytes?: number;
  /**
   * `'interval'`: an append resolves once its record is on the device (group commit).
   * `'none'`: once it is written to the operating system (survives a crash of the process,
   * not of the machine). @default 'interval'
   */
  sync?: 'none' | 'interval';
  /** Longest wait before a group commit: one `fdatasync` covers every append of the interval. @default 10 */
  syncIntervalMs?: number;
  /**
   * Failures of background work that no call can report (writing the checkpoint, deleting acked
   * segments); both are retried at the next commit. The spool logs nothing itself.
   */
  onError?: (error: ArchiverError) => void;
}

/** Options of {@link Spool.append}. */
export interface AppendOptions {
  /**
   * `false` when the caller keeps the event in memory and stores it itself: {@link Spool.read}
   * then never hands this record out in this process, the caller acks it when stored. After a
   * restart it is handed out like every other record not acked. @default true
   */
  handOut?: boolean;
}

/** What {@link Spool.open} found on disk. */
export interface SpoolRecovery {
  /** Records not acked, handed out by `read` before any new record. */
  readonly records: number;
  /** Their payload bytes. */
  readonly bytes: number;
  /** Bytes moved aside because they could not be read as records (torn or corrupt). */
  readonly corruptBytes: number;
  /** The files those bytes were moved to. */
  readonly corruptFiles: readonly string[];
}

/** Counters of records not acked yet. */
export interface SpoolStats {
  /** Records appended (or recovered) and not acked. */
  records: number;
  /** Their payload bytes. */
  bytes: number;
  /** Segment files that hold at least one of them. */
  segments: number;
  /** Bytes counted against `quotaBytes`. */
  diskBytes: number;
}

const SEGMENT_MAGIC = Buffer.from('HASPLSEG', 'latin1');
const CHECKPOINT_MAGIC = Buffer.from('HASPLCKP', 'latin1');
const FORMAT_VERSION = 1;
const HEADER_BYTES = 32;
const RECORD_HEADER_BYTES = 8;
const MAX_PAYLOAD_BYTES = 0xffff_ffff;
const CHECKPOINT = 'checkpoint';
const CHECKPOINT_TMP = 'checkpoint.tmp';
/** The checkpoint's second slot starts a page after the first, so no torn sector or page write
 *  can damage both. */
const CHECKPOINT_SLOT_STRIDE = 4096;
const SEGMENT_NAME = /^(\d{1,16})\.seg$/;
const ASIDE_NAME = /^(\d{1,16})\.seg\.corrupt-/;

/** One writev covers at most this much, so that a long queue still reaches the disk in steps. */
const MAX_BATCH_BYTES = 16 * 2 ** 20;
const MAX_BATCH_RECORDS = 4096;
/** Read size when scanning segments at open and when copying corrupt tails aside. */
const SCAN_CHUNK_BYTES = 4 * 2 ** 20;
/** `read` joins records separated by less than this (acked or held in memory) into one pread. */
const READ_GAP_BYTES = 64 * 1024;
const READ_RUN_BYTES = 16 * 2 ** 20;

const DEFAULTS = { segmentBytes: 64 * 2 ** 20, quotaBytes: 10 * 2 ** 30, sync: 'interval', syncIntervalMs: 10 } as const;

const PENDING = 0;
const ACKED = 1;
/** Appended with `handOut: false`: not acked, but not for `read` either. */
const HELD = 2;

/** Folders open in this process: two spools on one folder would interleave records. */
const openFolders = new Set<string>();

/** The in-memory index of one segment file: where each record starts and whether it is acked. */
class Segment {
  readonly index: number;
  readonly file: string;
  readonly firstSeq: number;
  count = 0;
  acked = 0;
  /** End of the last good record. */
  size = HEADER_BYTES;
  offsets = new Uint32Array(64);
  states = new Uint8Array(64);
  /** Every record below this index is acked (only moves forward). */
  low = 0;
  /** The writer's handle (active segment, or rolled and not yet synced). */
  fd: FileHandle | undefined;
  /** No more appends: rolled, recovered, or its last write or sync failed. */
  retired = false;
  /** All records acked and not active: no longer counted against the quota, deleted soon. */
  freed = false;
  /** An fdatasync on `fd` is in flight; the handle must stay open. */
  syncing = false;

  constructor(index: number, file: string, firstSeq: number) {
    this.index = index;
    this.file = file;
    this.firstSeq = firstSeq;
  }

  push(offset: number, state: number): void {
    if (this.count === this.offsets.length) {
      const offsets = new Uint32Array(this.count * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const states = new Uint8Array(this.count * 2);
      states.set(this.states);
      this.states = states;
    }
    this.offsets[this.count] = offset;
    this.states[this.count] = state;
    this.count++;
  }

  /** Bytes of record `i`, its 8-byte header included. */
  recordBytes(i: number): number {
    const end = i + 1 < this.count ? this.offsets[i + 1]! : this.size;
    return end - this.offsets[i]!;
  }
}

interface Queued {
  /** The record's bytes, in one piece or in parts written one after another. */
  readonly payload: readonly Uint8Array[];
  readonly payloadBytes: number;
  readonly crc: number;
  readonly bytes: number;
  readonly state: number;
  readonly resolve: (id: SpoolRecordId) => void;
  readonly reject: (err: ArchiverError) => void;
}

interface Unsynced {
  readonly id: SpoolRecordId;
  readonly resolve: (id: SpoolRecordId) => void;
  readonly reject: (err: ArchiverError) => void;
}

/**
 * An append-only queue of byte records in a folder, safe across crashes. See the module
 * comment for the data flow, the file format and the at-least-once rule.
 *
 * ```ts
 * await using spool = await Spool.open('/var/spool/heros-archiver/camera');
 * const id = await spool.append(bytes);          // durable now
 * for (const { id, payload } of await spool.read(256)) { await store(payload); spool.ack(id); }
 * ```
 */
export class Spool {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #quotaBytes: number;
  readonly #durable: boolean;
  readonly #syncIntervalMs: number;
  readonly #onError: ((error: ArchiverError) => void) | undefined;

  #dirHandle: FileHandle | undefined;
  /** Live segments, ordered by first record id. */
  #segments: Segment[] = [];
  #active: Segment | undefined;
  #nextSegmentIndex = 1;
  #nextSeq = 0;
  #readSeq = 0;
  #unackedRecords = 0;
  #unackedBytes = 0;
  #diskBytes = 0;
  #recovered: SpoolRecovery = { records: 0, bytes: 0, corruptBytes: 0, corruptFiles: [] };

  // Writer: appends wait in #queue until the writer loop takes them.
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #writer: Promise<void> | undefined;
  /** The segment a write is going to: it must not be retired under it. */
  #writingTo: Segment | undefined;

  // Group commit.
  #unsynced: Unsynced[] = [];
  readonly #dirty = new Set<Segment>();
  #dirDirty = false;
  #savedWatermark = -1;
  /** The checkpoint file, open for in-place writes once the first checkpoint is due. */
  #checkpointFd: FileHandle | undefined;
  /** The slot (0 or 1) the next checkpoint goes to: the one not holding the saved watermark. */
  #checkpointSlot = 0;
  #commitTimer: NodeJS.Timeout | undefined;
  #commitRunning: Promise<void> | undefined;
  #commitAgain = false;
  #lastCommitAt = -Infinity;

  // Reads and segment deletions run one at a time, so no handle is closed under a pread.
  #readChain: Promise<unknown> = Promise.resolve();
  #reader: { seg: Segment; fh: FileHandle } | undefined;

  #closing = false;
  #closed: Promise<void> | undefined;

  private constructor(dir: string, options: Required<Omit<SpoolOptions, 'onError'>> & Pick<SpoolOptions, 'onError'>) {
    this.#dir = dir;
    this.#segmentBytes = options.segmentBytes;
    this.#quotaBytes = options.quotaBytes;
    this.#durable = options.sync === 'interval';
    this.#syncIntervalMs = options.syncIntervalMs;
    this.#onError = options.onError;
  }

  /**
   * Opens (creating it if needed) the spool in `dir` and recovers what is on disk: records not
   * acked come back, in order, before any new one; a torn or corrupt tail is moved aside to
   * `<segment>.corrupt-<time>` and reported in {@link Spool.recovered}.
   * @throws ArchiverError `ARCHIVER_OPTIONS_INVALID`, `ARCHIVER_SPOOL_CORRUPT` (a segment of an
   *   unknown format version), `ARCHIVER_SPOOL_FAILED` (I/O, or the folder is already open here)
   */
  static async open(dir: string, options: SpoolOptions = {}): Promise<Spool> {
    const resolved = validateOptions(options);
    const folder = path.resolve(dir);
    if (openFolders.has(folder)) {
      throw new ArchiverError('ARCHIVER_SPOOL_FAILED', `spool folder ${folder} is already open in this process`, { path: folder, retryable: false });
    }
    openFolders.add(folder);
    const spool = new Spool(folder, resolved);
    try {
      await mkdir(folder, { recursive: true });
      await spool.#recover();
      return spool;
    } catch (err) {
      await spool.#dirHandle?.close().catch(() => undefined);
      openFolders.delete(folder);
      throw ioError(err, 'opening the spool', folder);
    }
  }

  /** What recovery found when the spool was opened. */
  get recovered(): SpoolRecovery {
    return this.#recovered;
  }

  /**
   * Appends one record. The promise resolves with its id once it is durable per the `sync`
   * option; `payload` must not change until then (its checksum is taken now, its bytes are
   * written later) and is not referenced afterwards. A payload given as parts is written as
   * their concatenation, without copying them into one buffer.
   * @throws ArchiverError `ARCHIVER_SPOOL_FULL` at once when the record would exceed
   *   `quotaBytes`, or with the errno as cause when the disk is full; `ARCHIVER_SPOOL_FAILED`
   *   on other I/O errors, when closed, or for a payload of 4 GiB or more
   */
  append(payload: Uint8Array | readonly Uint8Array[], options: AppendOptions = {}): Promise<SpoolRecordId> {
    if (this.#closing) return Promise.reject(closedError(this.#dir));
    const parts = payload instanceof Uint8Array ? [payload] : payload.filter((p) => p.byteLength > 0);
    let payloadBytes = 0;
    for (const p of parts) payloadBytes += p.byteLength;
    if (payloadBytes > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new ArchiverError('ARCHIVER_SPOOL_FAILED', `a record of ${payloadBytes} bytes exceeds the spool's limit of ${MAX_PAYLOAD_BYTES} bytes`, { path: this.#dir, retryable: false }),
      );
    }
    const bytes = RECORD_HEADER_BYTES + payloadBytes;
    if (!this.#fits(bytes)) {
      return Promise.reject(
        new ArchiverError(
          'ARCHIVER_SPOOL_FULL',
          `spool quota of ${this.#quotaBytes} bytes reached (${this.#diskBytes + this.#queuedBytes} used, ${bytes} more asked)`,
          { path: this.#dir },
        ),
      );
    }
    const crc = partsCrc(parts, payloadBytes);
    this.#queuedBytes += bytes;
    return new Promise<SpoolRecordId>((resolve, reject) => {
      this.#queue.push({ payload: parts, payloadBytes, crc, bytes, state: options.handOut === false ? HELD : PENDING, resolve, reject });
      this.#startWriter();
    });
  }

  /**
   * The next records not handed out yet, in append order (after a restart the recovered ones
   * first), at most `max`. Records acked or appended with `handOut: false` are skipped. An empty
   * array means none is written yet. Payloads are read back from disk in large reads; ask for
   * many at once.
   * @throws ArchiverError `ARCHIVER_SPOOL_CORRUPT` when the first record due fails its checksum
   *   (it is skipped from then on and left on disk, where the next open moves it aside);
   *   `ARCHIVER_SPOOL_FAILED` on I/O errors (nothing is handed out, the next call tries again)
   */
  read(max: number): Promise<SpoolRecord[]> {
    if (this.#closing) return Promise.reject(closedError(this.#dir));
    if (!Number.isInteger(max) || max < 0) {
      return Promise.reject(new ArchiverError('ARCHIVER_SPOOL_FAILED', `read(max): expected a whole number ≥ 0, got ${max}`, { retryable: false }));
    }
    return this.#withReadLock(() => this.#readLocked(max));
  }

  /**
   * Marks a record as stored. Acks may arrive in any order; a record acked before `read` got to
   * it is not handed out; acking an unknown or already acked id does nothing. The watermark is
   * persisted and fully acked segments are deleted at the next commit. Only the watermark
   * survives a restart: records acked beyond it are handed out again (at least once).
   */
  ack(id: SpoolRecordId): void {
    const seg = this.#segmentOf(id);
    if (seg === undefined) return;
    const i = id - seg.firstSeq;
    if (i >= seg.count || seg.states[i] === ACKED) return;
    seg.states[i] = ACKED;
    seg.acked++;
    this.#unackedRecords--;
    this.#unackedBytes -= seg.recordBytes(i) - RECORD_HEADER_BYTES;
    if (seg.acked === seg.count && seg !== this.#active) this.#free(seg);
    this.#scheduleCommit();
  }

  /** Bytes appended and not yet written to a segment file (held in memory meanwhile). */
  get unwrittenBytes(): number {
    return this.#queuedBytes;
  }

  /** Counters of the records not acked yet. */
  stats(): SpoolStats {
    let segments = 0;
    for (const seg of this.#segments) if (seg.acked < seg.count) segments++;
    return { records: this.#unackedRecords, bytes: this.#unackedBytes, segments, diskBytes: this.#diskBytes };
  }

  /**
   * Writes what was appended, syncs it, persists the watermark, deletes fully acked segments
   * (the active one too) and closes every file. Appends and reads made after `close()` are
   * refused. Idempotent; every step runs even when an earlier one fails, the first failure is
   * thrown at the end.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    while (this.#writer !== undefined) await step(async () => this.#writer);
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    await step(async () => this.#commitRunning);
    // The last commit syncs even with sync 'none': a clean stop leaves nothing to chance.
    await step(() => this.#commit(true));
    const active = this.#active;
    if (active !== undefined && active.acked === active.count) {
      this.#active = undefined;
      this.#free(active);
      await step(() => this.#deleteFreed());
    }
    await step(() => this.#withReadLock(async () => this.#reader?.fh.close()));
    this.#reader = undefined;
    for (const seg of this.#segments) await step(() => this.#closeWriterFd(seg));
    await step(async () => this.#checkpointFd?.close());
    this.#checkpointFd = undefined;
    await step(async () => this.#dirHandle?.close());
    openFolders.delete(this.#dir);
    if (errors.length > 0) throw ioError(errors[0], 'closing the spool', this.#dir);
  }

  // ─── appending ────────────────────────────────────────────────────────────────────────────

  #fits(bytes: number): boolean {
    if (this.#diskBytes + this.#queuedBytes + bytes <= this.#quotaBytes) return true;
    // The active segment is never deleted while it takes appends; when it is all acked and
    // the quota is reached, retire it so that the next commit deletes it.
    const active = this.#active;
    if (active !== undefined && active !== this.#writingTo && active.count > 0 && active.acked === active.count) {
      this.#active = undefined;
      active.retired = true;
      this.#free(active);
      return this.#diskBytes + this.#queuedBytes + bytes <= this.#quotaBytes;
    }
    return false;
  }

  #startWriter(): void {
    if (this.#writer !== undefined) return;
    this.#writer = this.#writeQueued().finally(() => {
      this.#writer = undefined;
      // Appends that arrived while the last batch settled.
      if (this.#queue.length > 0) this.#startWriter();
    });
  }

  async #writeQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      let end = 0;
      let bytes = 0;
      while (end < this.#queue.length && end < MAX_BATCH_RECORDS && (end === 0 || bytes + this.#queue[end]!.bytes <= MAX_BATCH_BYTES)) {
        bytes += this.#queue[end]!.bytes;
        end++;
      }
      // splice, not a moving head index: written payloads must not stay referenced by the queue.
      const batch = this.#queue.splice(0, end);
      await this.#writeBatch(batch);
    }
  }

  /** Writes a batch in order, one writev per segment it touches; never throws. */
  async #writeBatch(batch: Queued[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      let seg: Segment;
      try {
        seg = await this.#segmentFor(batch[i]!.bytes);
      } catch (err) {
        this.#rejectQueued(batch.slice(i), ioError(err, 'creating a segment', this.#dir));
        return;
      }
      let j = i;
      let end = seg.size;
      while (j < batch.length && (j === i || end + batch[j]!.bytes <= this.#segmentBytes)) {
        end += batch[j]!.bytes;
        j++;
      }
      const run = batch.slice(i, j);
      try {
        await this.#writeRun(seg, run);
        this.#writingTo = undefined;
      } catch (err) {
        this.#writingTo = undefined;
        const error = ioError(err, 'writing to the spool', seg.file);
        // Cut a partly written record off so the segment stays readable; should that fail
        // too, recovery moves the fragment aside. Either way this file takes no more appends.
        await seg.fd?.truncate(seg.size).catch(() => undefined);
        seg.retired = true;
        this.#rejectQueued(batch.slice(i), error);
        return;
      }
      i = j;
    }
  }

  async #writeRun(seg: Segment, run: Queued[]): Promise<void> {
    const headers = Buffer.allocUnsafe(RECORD_HEADER_BYTES * run.length);
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for (let k = 0; k < run.length; k++) {
      const entry = run[k]!;
      headers.writeUInt32LE(entry.payloadBytes, k * RECORD_HEADER_BYTES);
      headers.writeUInt32LE(entry.crc, k * RECORD_HEADER_BYTES + 4);
      chunks.push(headers.subarray(k * RECORD_HEADER_BYTES, (k + 1) * RECORD_HEADER_BYTES));
      for (const part of entry.payload) chunks.push(part);
      bytes += entry.bytes;
    }
    await writeAllAt(seg.fd!, chunks, seg.size);
    let offset = seg.size;
    const ids: SpoolRecordId[] = [];
    for (const entry of run) {
      seg.push(offset, entry.state);
      offset += entry.bytes;
      ids.push(this.#nextSeq++ as SpoolRecordId);
    }
    seg.size = offset;
    this.#queuedBytes -= bytes;
    this.#diskBytes += bytes;
    this.#unackedRecords += run.length;
    this.#unackedBytes += bytes - RECORD_HEADER_BYTES * run.length;
    if (!this.#durable) {
      for (let k = 0; k < run.length; k++) run[k]!.resolve(ids[k]!);
      return;
    }
    for (let k = 0; k < run.length; k++) this.#unsynced.push({ id: ids[k]!, resolve: run[k]!.resolve, reject: run[k]!.reject });
    this.#dirty.add(seg);
    this.#scheduleCommit();
  }

  #rejectQueued(entries: Queued[], error: ArchiverError): void {
    for (const entry of entries) {
      this.#queuedBytes -= entry.bytes;
      entry.reject(error);
    }
  }

  /** The segment the next record goes to, rolling to a new file when it would not fit. */
  async #segmentFor(bytes: number): Promise<Segment> {
    const active = this.#active;
    if (active !== undefined && !active.retired && (active.count === 0 || active.size + bytes <= this.#segmentBytes)) {
      this.#writingTo = active;
      return active;
    }
    const seg = await this.#createSegment();
    this.#active = seg;
    this.#writingTo = seg;
    if (active !== undefined) {
      active.retired = true;
      if (active.acked === active.count) this.#free(active);
      if (!this.#dirty.has(active) && !active.syncing) await this.#closeWriterFd(active).catch(() => undefined);
    }
    return seg;
  }

  async #createSegment(): Promise<Segment> {
    const index = this.#nextSegmentIndex++;
    const file = path.join(this.#dir, segmentName(index));
    let fh: FileHandle | undefined;
    try {
      fh = await open(file, 'wx');
      await writeAllAt(fh, [segmentHeader(this.#nextSeq)], 0);
    } catch (err) {
      if (fh !== undefined) {
        await fh.close().catch(() => undefined);
        await unlink(file).catch(() => undefined);
      }
      throw err;
    }
    const seg = new Segment(index, file, this.#nextSeq);
    seg.fd = fh;
    this.#segments.push(seg);
    this.#diskBytes += HEADER_BYTES;
    // A new file is durable only once the folder entry is: the next commit syncs the folder.
    this.#dirDirty = true;
    return seg;
  }

  async #closeWriterFd(seg: Segment): Promise<void> {
    const fd = seg.fd;
    seg.fd = undefined;
    await fd?.close();
  }

  // ─── group commit, checkpoint, deletion ───────────────────────────────────────────────────

  #scheduleCommit(): void {
    // Once closing, close() runs the last commit itself; a timer would outlive the handles.
    if (this.#closing) return;
    if (this.#commitRunning !== undefined) {
      this.#commitAgain = true;
      return;
    }
    if (this.#commitTimer !== undefined) return;
    const delay = Math.max(0, this.#lastCommitAt + this.#syncIntervalMs - performance.now());
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      this.#runCommit();
    }, delay);
  }

  #runCommit(): void {
    this.#lastCommitAt = performance.now();
    this.#commitRunning = this.#commit(false).finally(() => {
      this.#commitRunning = undefined;
      if (this.#commitAgain) {
        this.#commitAgain = false;
        this.#scheduleCommit();
      }
    });
  }

  /** One group commit; never throws (failures reject appends or go to `onError`). */
  async #commit(final: boolean): Promise<void> {
    const durable = this.#durable || final;
    const waiters = this.#unsynced;
    this.#unsynced = [];
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    if (final && this.#active?.fd !== undefined && !dirty.includes(this.#active)) dirty.push(this.#active);
    const dirDirty = this.#dirDirty;
    this.#dirDirty = false;
    const watermark = this.#watermark();
    const checkpointDue = watermark !== this.#savedWatermark;

    for (const seg of dirty) seg.syncing = true;
    // The checkpoint is written while the segments sync: one commit costs about one sync.
    // Settled into a value at once: a rejection must not sit unhandled while the syncs run.
    const checkpointWritten = checkpointDue ? this.#writeCheckpoint(watermark, durable).then((created) => ({ created }), (err: unknown) => ({ err })) : undefined;
    let dataError: ArchiverError | undefined;
    if (durable) {
      const results = await Promise.allSettled(dirty.map((seg) => seg.fd!.datasync()));
      results.forEach((r, k) => {
        if (r.status === 'fulfilled') return;
        // After a failed fdatasync the kernel may have dropped the pages: write no more there.
        dirty[k]!.retired = true;
        dataError ??= ioError(r.reason, 'syncing the spool', dirty[k]!.file);
      });
    }
    for (const seg of dirty) {
      seg.syncing = false;
      if (seg !== this.#active && !this.#dirty.has(seg)) await this.#closeWriterFd(seg).catch(() => undefined);
    }
    if (!dirDirty) settle(waiters, dataError);

    let created = false;
    if (checkpointWritten !== undefined) {
      try {
        const result = await checkpointWritten;
        if ('err' in result) throw result.err;
        created = result.created;
        this.#savedWatermark = watermark;
      } catch (err) {
        this.#report(ioError(err, 'writing the spool checkpoint', path.join(this.#dir, CHECKPOINT)));
      }
    }
    // The folder is synced only when a file appeared: a new segment, or the checkpoint file.
    if (durable && (dirDirty || created)) {
      try {
        await this.#dirHandle!.sync();
      } catch (err) {
        const error = ioError(err, 'syncing the spool folder', this.#dir);
        if (dirDirty) {
          dataError ??= error;
          this.#dirDirty = true;
        } else {
          this.#report(error);
        }
      }
    }
    if (dirDirty) settle(waiters, dataError);
    // Deleting acked segments does not wait for the checkpoint: it frees space even when the
    // checkpoint cannot be written (disk full), at worst records are handed out again.
    await this.#deleteFreed();
  }

  /**
   * Writes `watermark` into the checkpoint slot not holding the saved one, in place. Resolves
   * true when this created the checkpoint file (its folder entry then needs a sync).
   */
  async #writeCheckpoint(watermark: number, durable: boolean): Promise<boolean> {
    let created = false;
    if (this.#checkpointFd === undefined) {
      const file = path.join(this.#dir, CHECKPOINT);
      try {
        this.#checkpointFd = await open(file, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.#checkpointFd = await open(file, 'wx+');
        created = true;
      }
    }
    const slot = this.#checkpointSlot;
    await writeAllAt(this.#checkpointFd, [checkpointBytes(watermark)], slot * CHECKPOINT_SLOT_STRIDE);
    if (durable) await this.#checkpointFd.datasync();
    this.#checkpointSlot = 1 - slot;
    return created;
  }

  /** The lowest id not acked: everything before it is stored. */
  #watermark(): number {
    for (const seg of this.#segments) {
      if (seg.acked === seg.count) continue;
      while (seg.states[seg.low] === ACKED) seg.low++;
      return seg.firstSeq + seg.low;
    }
    return this.#nextSeq;
  }

  /** A segment whose records are all acked stops counting against the quota. */
  #free(seg: Segment): void {
    if (seg.freed) return;
    seg.freed = true;
    this.#diskBytes -= seg.size;
    this.#scheduleCommit();
  }

  async #deleteFreed(): Promise<void> {
    if (!this.#segments.some((s) => s.freed)) return;
    await this.#withReadLock(async () => {
      const doomed = this.#segments.filter((s) => s.freed && s !== this.#active && !s.syncing && !this.#dirty.has(s));
      for (const seg of doomed) {
        try {
          if (this.#reader?.seg === seg) {
            const { fh } = this.#reader;
            this.#reader = undefined;
            await fh.close();
          }
          await this.#closeWriterFd(seg);
          await unlink(seg.file).catch((err: unknown) => {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          });
          const k = this.#segments.indexOf(seg);
          if (k >= 0) this.#segments.splice(k, 1);
        } catch (err) {
          this.#report(ioError(err, 'deleting an acked spool segment', seg.file));
        }
      }
    });
  }

  #report(error: ArchiverError): void {
    try {
      this.#onError?.(error);
    } catch {
      // A throwing error handler must not break the commit loop.
    }
  }

  // ─── reading ──────────────────────────────────────────────────────────────────────────────

  #withReadLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#readChain.then(fn);
    this.#readChain = run.catch(() => undefined);
    return run;
  }

  async #readLocked(max: number): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    let k = Math.max(0, this.#segmentIndexAt(this.#readSeq));
    while (out.length < max && k < this.#segments.length) {
      const seg = this.#segments[k]!;
      let i = Math.max(0, this.#readSeq - seg.firstSeq);
      const count = seg.count;
      const picked: number[] = [];
      while (i < count && out.length + picked.length < max) {
        if (seg.states[i] === PENDING) picked.push(i);
        i++;
      }
      if (picked.length > 0) {
        const { records, corrupt } = await this.#readRecords(seg, picked);
        out.push(...records);
        if (corrupt !== undefined) {
          if (out.length > 0) {
            // Hand out the good records first; the next call reports the bad one.
            this.#readSeq = seg.firstSeq + corrupt.index;
            return out;
          }
          this.#readSeq = seg.firstSeq + corrupt.index + 1;
          throw corrupt.error;
        }
      }
      this.#readSeq = seg.firstSeq + i;
      if (out.length >= max) break;
      // The writer may have added records to this segment while we read: look again before
      // moving on, or they would be skipped.
      if (i >= seg.count) k++;
    }
    return out;
  }

  /** Reads the picked records of one segment, joining neighbours into large preads. */
  async #readRecords(seg: Segment, picked: number[]): Promise<{ records: SpoolRecord[]; corrupt?: { index: number; error: ArchiverError } }> {
    let fh: FileHandle;
    try {
      fh = await this.#readerFor(seg);
    } catch (err) {
      throw ioError(err, 'reading the spool', seg.file);
    }
    const records: SpoolRecord[] = [];
    let p = 0;
    while (p < picked.length) {
      const runStart = seg.offsets[picked[p]!]!;
      let q = p + 1;
      let runEnd = runStart + seg.recordBytes(picked[p]!);
      while (q < picked.length) {
        const start = seg.offsets[picked[q]!]!;
        const end = start + seg.recordBytes(picked[q]!);
        if (start - runEnd > READ_GAP_BYTES || end - runStart > READ_RUN_BYTES) break;
        runEnd = end;
        q++;
      }
      const buf = Buffer.allocUnsafe(runEnd - runStart);
      try {
        await readAllAt(fh, buf, runStart);
      } catch (err) {
        throw ioError(err, 'reading the spool', seg.file);
      }
      for (let r = p; r < q; r++) {
        const i = picked[r]!;
        const at = seg.offsets[i]! - runStart;
        const length = seg.recordBytes(i) - RECORD_HEADER_BYTES;
        const payload = new Uint8Array(buf.buffer, buf.byteOffset + at + RECORD_HEADER_BYTES, length);
        if (buf.readUInt32LE(at) !== length || buf.readUInt32LE(at + 4) !== recordCrc(payload)) {
          const id = seg.firstSeq + i;
          const error = new ArchiverError('ARCHIVER_SPOOL_CORRUPT', `spool record ${id} at offset ${seg.offsets[i]} of ${seg.file} fails its checksum`, { path: seg.file });
          return { records, corrupt: { index: i, error } };
        }
        records.push({ id: (seg.firstSeq + i) as SpoolRecordId, payload });
      }
      p = q;
    }
    return { records };
  }

  /** One read handle, kept while `read` stays in the same segment. */
  async #readerFor(seg: Segment): Promise<FileHandle> {
    if (this.#reader?.seg === seg) return this.#reader.fh;
    const previous = this.#reader;
    this.#reader = undefined;
    await previous?.fh.close().catch(() => undefined);
    const fh = await open(seg.file, 'r');
    this.#reader = { seg, fh };
    return fh;
  }

  /** Index in #segments of the last segment starting at or before `seq`, or -1. */
  #segmentIndexAt(seq: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#segments[mid]!.firstSeq <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  #segmentOf(seq: number): Segment | undefined {
    if (!Number.isSafeInteger(seq)) return undefined;
    const k = this.#segmentIndexAt(seq);
    return k < 0 ? undefined : this.#segments[k];
  }

  // ─── recovery ─────────────────────────────────────────────────────────────────────────────

  async #recover(): Promise<void> {
    this.#dirHandle = await open(this.#dir, 'r');
    const found: { index: number; file: string }[] = [];
    let maxIndex = 0;
    let hasCheckpoint = false;
    for (const name of await readdir(this.#dir)) {
      const seg = SEGMENT_NAME.exec(name);
      const aside = ASIDE_NAME.exec(name);
      if (seg !== null) {
        found.push({ index: Number(seg[1]), file: path.join(this.#dir, name) });
        maxIndex = Math.max(maxIndex, Number(seg[1]));
      } else if (aside !== null) {
        maxIndex = Math.max(maxIndex, Number(aside[1]));
      } else if (name === CHECKPOINT) {
        hasCheckpoint = true;
      } else if (name === CHECKPOINT_TMP) {
        // Left by a version that replaced the checkpoint through a temporary file and renamed
        // it: a write that did not reach its rename; the checkpoint stands.
        await unlink(path.join(this.#dir, name));
      }
    }
    this.#nextSegmentIndex = maxIndex + 1;
    found.sort((a, b) => a.index - b.index);

    const aside: string[] = [];
    let corruptBytes = 0;
    let folderChanged = false;
    const checkpoint = hasCheckpoint ? await readCheckpoint(path.join(this.#dir, CHECKPOINT)) : undefined;
    let watermark = 0;
    if (checkpoint !== undefined && 'watermark' in checkpoint) {
      watermark = checkpoint.watermark;
      this.#savedWatermark = checkpoint.watermark;
      this.#checkpointSlot = 1 - checkpoint.slot;
    } else if (checkpoint !== undefined) {
      // An unreadable checkpoint means "nothing acked": records may be handed out twice, never lost.
      aside.push(await moveAside(path.join(this.#dir, CHECKPOINT)));
      corruptBytes += checkpoint.bytes;
      folderChanged = true;
    }

    // Headers first: a segment whose successor starts at or below the watermark is all acked
    // and need not be read.
    const heads: { index: number; file: string; firstSeq: number; size: number }[] = [];
    for (const f of found) {
      const head = await readSegmentHead(f.file);
      if (head.kind === 'empty') {
        await unlink(f.file);
        folderChanged = true;
      } else if (head.kind === 'torn') {
        aside.push(await moveAside(f.file));
        corruptBytes += head.size;
        folderChanged = true;
      } else if (head.kind === 'unsupported') {
        throw new ArchiverError('ARCHIVER_SPOOL_CORRUPT', `spool segment ${f.file} has format version ${head.version}; this version reads ${FORMAT_VERSION}`, {
          path: f.file,
        });
      } else {
        heads.push({ ...f, firstSeq: head.firstSeq, size: head.size });
      }
    }

    let scratch: Buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let end = 0;
    for (let h = 0; h < heads.length; h++) {
      const head = heads[h]!;
      const next = heads[h + 1];
      if (next !== undefined && next.firstSeq <= watermark && head.firstSeq < next.firstSeq) {
        await unlink(head.file);
        folderChanged = true;
        continue;
      }
      if (head.firstSeq < end) {
        // Overlaps the records of the segment before it: not written by this spool in order.
        aside.push(await moveAside(head.file));
        corruptBytes += head.size;
        folderChanged = true;
        continue;
      }
      const seg = new Segment(head.index, head.file, head.firstSeq);
      seg.retired = true;
      const fh = await open(head.file, 'r+');
      try {
        const scan = await scanRecords(fh, head.size, seg, scratch);
        scratch = scan.scratch.length > SCAN_CHUNK_BYTES ? Buffer.allocUnsafe(SCAN_CHUNK_BYTES) : scan.scratch;
        seg.size = scan.end;
        if (scan.end < head.size) {
          aside.push(await moveTailAside(fh, head.file, scan.end, head.size));
          corruptBytes += head.size - scan.end;
          folderChanged = true;
        }
      } finally {
        await fh.close();
      }
      end = seg.firstSeq + seg.count;
      for (let i = 0; i < seg.count && seg.firstSeq + i < watermark; i++) {
        seg.states[i] = ACKED;
        seg.acked++;
      }
      if (seg.acked === seg.count) {
        await unlink(seg.file);
        folderChanged = true;
        continue;
      }
      this.#segments.push(seg);
      this.#diskBytes += seg.size;
      this.#unackedRecords += seg.count - seg.acked;
      for (let i = seg.acked; i < seg.count; i++) this.#unackedBytes += seg.recordBytes(i) - RECORD_HEADER_BYTES;
    }
    if (folderChanged) await this.#dirHandle.sync();
    this.#nextSeq = Math.max(watermark, end);
    this.#readSeq = 0;
    this.#recovered = Object.freeze({
      records: this.#unackedRecords,
      bytes: this.#unackedBytes,
      corruptBytes,
      corruptFiles: Object.freeze(aside),
    });
  }
}

// ─── helpers ────────────────────────────────────────────────────────────────────────────────

function validateOptions(options: SpoolOptions): Required<Omit<SpoolOptions, 'onError'>> & Pick<SpoolOptions, 'onError'> {
  const out = { ...DEFAULTS, ...stripUndefined(options) };
  const problems: string[] = [];
  if (!Number.isSafeInteger(out.segmentBytes) || out.segmentBytes < 1024 || out.segmentBytes > 2 ** 32 - 1) {
    problems.push(`segmentBytes: expected a whole number from 1024 to ${2 ** 32 - 1}, got ${String(out.segmentBytes)}`);
  }
  if (!Number.isSafeInteger(out.quotaBytes) || out.quotaBytes <= 0) problems.push(`quotaBytes: expected a whole number > 0, got ${String(out.quotaBytes)}`);
  if (out.sync !== 'none' && out.sync !== 'interval') problems.push(`sync: expected "none" or "interval", got ${JSON.stringify(out.sync)}`);
  if (typeof out.syncIntervalMs !== 'number' || !(out.syncIntervalMs >= 0) || !Number.isFinite(out.syncIntervalMs)) {
    problems.push(`syncIntervalMs: expected a number ≥ 0, got ${String(out.syncIntervalMs)}`);
  }
  if (out.onError !== undefined && typeof out.onError !== 'function') problems.push('onError: expected a function');
  if (problems.length > 0) throw new ArchiverError('ARCHIVER_OPTIONS_INVALID', `invalid spool options: ${problems.join('; ')}`);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Any failure as a coded error: a full disk is `ARCHIVER_SPOOL_FULL`, the rest `ARCHIVER_SPOOL_FAILED`. */
function ioError(err: unknown, what: string, file: string): ArchiverError {
  if (err instanceof ArchiverError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ArchiverError('ARCHIVER_SPOOL_FULL', `${what}: the disk is full (${code})`, { path: file, cause: err });
  return new ArchiverError('ARCHIVER_SPOOL_FAILED', `${what}: ${message}`, { path: file, cause: err });
}

function closedError(dir: string): ArchiverError {
  return new ArchiverError('ARCHIVER_SPOOL_FAILED', `spool ${dir} is closed`, { path: dir, retryable: false });
}

function settle(waiters: Unsynced[], error: ArchiverError | undefined): void {
  for (const w of waiters) {
    if (error === undefined) w.resolve(w.id);
    else w.reject(error);
  }
}

const lengthScratch = Buffer.alloc(4);

/** CRC-32 of the little-endian length followed by the payload. */
function recordCrc(payload: Uint8Array): number {
  lengthScratch.writeUInt32LE(payload.byteLength, 0);
  return crc32(payload, crc32(lengthScratch));
}

/** {@link recordCrc} of the concatenation of `parts` (`bytes` long in all). */
function partsCrc(parts: readonly Uint8Array[], bytes: number): number {
  lengthScratch.writeUInt32LE(bytes, 0);
  let crc = crc32(lengthScratch);
  for (const p of parts) crc = crc32(p, crc);
  return crc;
}

function segmentName(index: number): string {
  return `${String(index).padStart(16, '0')}.seg`;
}

function headerBytes(magic: Buffer, value: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  magic.copy(b, 0);
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeBigUInt64LE(BigInt(value), 16);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

function segmentHeader(firstSeq: number): Buffer {
  return headerBytes(SEGMENT_MAGIC, firstSeq);
}

function checkpointBytes(watermark: number): Buffer {
  return headerBytes(CHECKPOINT_MAGIC, watermark);
}

type Header = { kind: 'ok'; value: number } | { kind: 'torn' } | { kind: 'unsupported'; version: number };

function parseHeader(b: Buffer, magic: Buffer): Header {
  if (b.length < HEADER_BYTES || !b.subarray(0, 8).equals(magic) || b.readUInt32LE(28) !== crc32(b.subarray(0, 28))) return { kind: 'torn' };
  const version = b.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return { kind: 'unsupported', version };
  const value = b.readBigUInt64LE(16);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: 'torn' };
  return { kind: 'ok', value: Number(value) };
}

type SegmentHead = { kind: 'ok'; firstSeq: number; size: number } | { kind: 'empty' } | { kind: 'torn'; size: number } | { kind: 'unsupported'; version: number };

async function readSegmentHead(file: string): Promise<SegmentHead> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    // Created but the header never reached the disk: the file holds no data.
    if (size === 0) return { kind: 'empty' };
    const b = Buffer.alloc(Math.min(size, HEADER_BYTES));
    await readAllAt(fh, b, 0);
    const head = parseHeader(b, SEGMENT_MAGIC);
    if (head.kind === 'ok') return { kind: 'ok', firstSeq: head.value, size };
    if (head.kind === 'unsupported') return head;
    return { kind: 'torn', size };
  } finally {
    await fh.close();
  }
}

/**
 * The highest watermark among the checkpoint's valid slots and the slot holding it; undefined
 * when there is no checkpoint; the size of an unreadable one (no valid slot).
 */
async function readCheckpoint(file: string): Promise<{ watermark: number; slot: number } | { bytes: number } | undefined> {
  let b: Buffer;
  try {
    b = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let best: { watermark: number; slot: number } | undefined;
  for (let slot = 0; slot < 2 && slot * CHECKPOINT_SLOT_STRIDE + HEADER_BYTES <= b.length; slot++) {
    const at = slot * CHECKPOINT_SLOT_STRIDE;
    const head = parseHeader(b.subarray(at, at + HEADER_BYTES), CHECKPOINT_MAGIC);
    if (head.kind === 'unsupported') {
      throw new ArchiverError('ARCHIVER_SPOOL_CORRUPT', `spool checkpoint ${file} has format version ${head.version}; this version reads ${FORMAT_VERSION}`, { path: file });
    }
    if (head.kind === 'ok' && (best === undefined || head.value > best.watermark)) best = { watermark: head.value, slot };
  }
  return best ?? { bytes: b.length };
}

/**
 * Walks the records of a segment in large reads and indexes the good ones; stops at the first
 * record that is short or fails its checksum. Returns where the good records end.
 */
async function scanRecords(fh: FileHandle, fileSize: number, seg: Segment, scratch: Buffer): Promise<{ end: number; scratch: Buffer }> {
  let buf = scratch;
  let bufStart = 0;
  let bufEnd = 0;
  const fill = async (from: number, need: number): Promise<void> => {
    const want = Math.min(Math.max(SCAN_CHUNK_BYTES, need), fileSize - from);
    if (buf.length < want) buf = Buffer.allocUnsafe(want);
    await readAllAt(fh, buf.subarray(0, want), from);
    bufStart = from;
    bufEnd = from + want;
  };
  let pos = HEADER_BYTES;
  while (fileSize - pos >= RECORD_HEADER_BYTES) {
    if (pos < bufStart || pos + RECORD_HEADER_BYTES > bufEnd) await fill(pos, RECORD_HEADER_BYTES);
    const length = buf.readUInt32LE(pos - bufStart);
    if (length > fileSize - pos - RECORD_HEADER_BYTES) break;
    const recordEnd = pos + RECORD_HEADER_BYTES + length;
    if (recordEnd > bufEnd) await fill(pos, RECORD_HEADER_BYTES + length);
    const at = pos - bufStart;
    const payload = buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length);
    if (buf.readUInt32LE(at + 4) !== recordCrc(payload)) break;
    seg.push(pos, PENDING);
    pos = recordEnd;
  }
  return { end: pos, scratch: buf };
}

function asideName(file: string): string {
  return `${file}.corrupt-${new Date().toISOString().replaceAll(':', '')}`;
}

/** Renames a whole file aside (never overwriting an earlier one). */
async function moveAside(file: string): Promise<string> {
  for (let n = 0; ; n++) {
    const target = n === 0 ? asideName(file) : `${asideName(file)}-${n}`;
    try {
      // link + unlink instead of rename: link fails if the target exists.
      await link(file, target);
      await unlink(file);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Copies bytes `from..size` of a segment to a `.corrupt-` file, syncs it, then cuts them off. */
async function moveTailAside(fh: FileHandle, file: string, from: number, size: number): Promise<string> {
  let out: FileHandle | undefined;
  let target = '';
  for (let n = 0; out === undefined; n++) {
    target = n === 0 ? asideName(file) : `${asideName(file)}-${n}`;
    try {
      out = await open(target, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, size - from));
    for (let pos = from; pos < size; ) {
      const n = Math.min(buf.length, size - pos);
      await readAllAt(fh, buf.subarray(0, n), pos);
      await writeAllAt(out, [buf.subarray(0, n)], pos - from);
      pos += n;
    }
    await out.datasync();
  } finally {
    await out.close();
  }
  // Only once the copy is on the device may the original bytes go.
  await fh.truncate(from);
  await fh.datasync();
  return target;
}

/** writev until everything is written: the kernel may write less than asked. */
async function writeAllAt(fh: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let pending = chunks;
  let pos = position;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, pos);
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    pos += bytesWritten;
    let skip = bytesWritten;
    let k = 0;
    while (k < pending.length && skip >= pending[k]!.byteLength) skip -= pending[k++]!.byteLength;
    pending = pending.slice(k);
    if (skip > 0) pending[0] = pending[0]!.subarray(skip);
  }
}

/** Fills `buf` from `position`; a file shorter than that is an error. */
async function readAllAt(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, done, buf.byteLength - done, position + done);
    if (bytesRead === 0) throw Object.assign(new Error(`unexpected end of file at ${position + done}`), { code: 'EIO' });
    done += bytesRead;
  }
}
