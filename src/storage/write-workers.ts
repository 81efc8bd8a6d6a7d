/**
 * Small-file writes on worker threads. Writing one archive file takes four system calls
 * (open, write, close, rename); through `fs/promises` each is a separate trip to libuv's thread
 * pool and back, and for small files those trips, not the disk, set the rate. A worker makes
 * the same calls synchronously in one go, so a file costs one message each way, and the main
 * thread still never blocks on storage (a hung mount stalls a worker, not the daemon).
 *
 * The workers are shared by every archiver of the process, started on first use and kept
 * `unref`'d while idle so that they never hold a process open.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** What a worker is asked to do. */
interface WriteRequest {
  readonly id: number;
  readonly file: string;
  readonly tmp: string;
  readonly data: string | Uint8Array[];
  readonly fsync: boolean;
}

/** A worker's answer: `error` set when the write failed (the temporary file is removed). */
interface WriteReply {
  readonly id: number;
  readonly error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

// Plain JavaScript, evaluated in the worker: the same code runs from dist/ and from sources.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
function openTmp(req) {
  try {
    return fs.openSync(req.tmp, 'wx');
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    // The folder does not exist (yet, or any more): create it and try once more.
    fs.mkdirSync(path.dirname(req.tmp), { recursive: true });
    return fs.openSync(req.tmp, 'wx');
  }
}
function writeAll(fd, data) {
  if (typeof data === 'string') {
    let buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    return;
  }
  let pending = data.filter((c) => c.byteLength > 0);
  while (pending.length > 0) {
    let n = fs.writevSync(fd, pending);
    const rest = [];
    for (const c of pending) {
      if (n >= c.byteLength) { n -= c.byteLength; continue; }
      rest.push(n > 0 ? c.subarray(n) : c);
      n = 0;
    }
    pending = rest;
  }
}
parentPort.on('message', (req) => {
  let fd;
  try {
    fd = openTmp(req);
    try {
      writeAll(fd, req.data);
      if (req.fsync) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(req.tmp, req.file);
    parentPort.postMessage({ id: req.id });
  } catch (err) {
    if (fd !== undefined) { try { fs.unlinkSync(req.tmp); } catch {} }
    parentPort.postMessage({ id: req.id, error: { message: String(err && err.message || err), code: err && err.code, errno: err && err.errno, syscall: err && err.syscall, path: err && err.path } });
  }
});
`;

interface Slot {
  readonly worker: Worker;
  readonly waiting: Map<number, { resolve: () => void; reject: (err: Error) => void }>;
}

/** Workers in the pool (`--write-threads`). Two keep both cores of a small machine busy with
 *  file system calls, and one write that hangs (a stuck mount) does not stop all others. */
let poolSize = 2;

/** Sets how many threads write small files (the CLI's `--write-threads`); takes effect for new threads. */
export function setWriteThreads(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`write threads must be a positive integer (got ${n})`);
  poolSize = n;
}
const slots: Slot[] = [];
let nextId = 1;
let tmpCounter = 0;
/** Makes temporary names unique among processes, also across a restart that reuses the pid. */
const TMP_TAG = `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;

function startSlot(): Slot {
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'heros-archiver file writer' });
  const slot: Slot = { worker, waiting: new Map() };
  worker.unref();
  worker.on('message', (reply: WriteReply) => {
    const w = slot.waiting.get(reply.id);
    if (w === undefined) return;
    slot.waiting.delete(reply.id);
    if (slot.waiting.size === 0) worker.unref();
    if (reply.error === undefined) w.resolve();
    else w.reject(toError(reply.error));
  });
  const fail = (err: Error): void => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    for (const w of slot.waiting.values()) w.reject(err);
    slot.waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`file writer thread exited (code ${code})`)));
  return slot;
}

function toError(e: NonNullable<WriteReply['error']>): Error {
  const err = new Error(e.message) as NodeJS.ErrnoException;
  if (e.code !== undefined) err.code = e.code;
  if (e.errno !== undefined) err.errno = e.errno;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  if (e.path !== undefined) err.path = e.path;
  return err;
}

/** The least busy worker, starting one while the pool is not full. */
function pick(): Slot {
  let best: Slot | undefined;
  for (const s of slots) if (best === undefined || s.waiting.size < best.waiting.size) best = s;
  if (best !== undefined && (best.waiting.size === 0 || slots.length >= poolSize)) return best;
  const slot = startSlot();
  slots.push(slot);
  return slot;
}

/** A temporary name next to `file`, unique within this process and among processes. */
export function temporaryName(dir: string, base: string): string {
  tmpCounter = (tmpCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${dir}/.${base}.${TMP_TAG}-${tmpCounter.toString(36)}.tmp`;
}

/**
 * Writes `data` to `tmp` and renames it to `file` on a worker thread, creating the folder when
 * it is missing. Chunks are copied into the message (views into a larger buffer would carry the
 * whole buffer), so this is for small files; errors carry the `code` of the failed call.
 */
export function writeViaWorker(file: string, tmp: string, data: string | readonly Uint8Array[], fsync: boolean): Promise<void> {
  const slot = pick();
  const id = nextId++;
  const req: WriteRequest = { id, file, tmp, data: typeof data === 'string' ? data : data.map((c) => new Uint8Array(c)), fsync };
  return new Promise<void>((resolve, reject) => {
    slot.waiting.set(id, { resolve, reject });
    if (slot.waiting.size === 1) slot.worker.ref();
    const transfer = typeof req.data === 'string' ? [] : req.data.map((c) => c.buffer as ArrayBuffer);
    slot.worker.postMessage(req, transfer);
  });
}
