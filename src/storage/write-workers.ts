/**
 * Small-file writes on worker threads. Writing one archive file takes four system calls
 * (open, write, close, rename); through `fs/promises` each is a separate trip to libuv's thread
 * pool and back, and for small files those trips, not the disk, set the rate. A worker makes
 * the same calls synchronously in one go, so a file costs one message each way, and the main
 * thread still never blocks on storage (a hung mount stalls a worker, not the daemon).
 *
 * Spare files: on some file systems creating a file (a new inode) costs far more than writing
 * one — a network file system's round trip, a journal under load. For a folder that receives
 * files at a high rate (a camera), each worker keeps a few empty files ready in that folder,
 * created while it has nothing else to do, and writes the next file into one of them before
 * renaming it to its name: the creation leaves the path from event to file. Spares are hidden
 * (`.heros-archiver-spare.<pid>.<tag>-<n>`), removed when their folder has been quiet for
 * {@link SPARE_IDLE_MS} and when the archivers stop; one killed with SIGKILL leaves at most
 * {@link setSpareFiles}' count per folder and thread, removed by the next process that writes
 * there at a high rate.
 *
 * The workers are shared by every archiver of the process, started on first use and kept
 * `unref`'d while idle so that they never hold a process open.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** What a worker is asked to do: write a file, or (`release`) remove its spare files. */
type WorkerRequest =
  | { readonly op: 'write'; readonly id: number; readonly file: string; readonly tmp: string; readonly data: string | Uint8Array[]; readonly fsync: boolean }
  | { readonly op: 'release'; readonly id: number }
  | { readonly op: 'spares'; readonly count: number };
type WriteRequest = Extract<WorkerRequest, { op: 'write' }>;

/** A folder whose spares were unused this long loses them. */
export const SPARE_IDLE_MS = 2000;
/** Files written to one folder within one second that make it worth spares. */
export const SPARE_HOT_FILES = 16;

/** A worker's answer: `error` set when the write failed (the temporary file is removed). */
interface WriteReply {
  readonly id: number;
  readonly error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

// Plain JavaScript, evaluated in the worker: the same code runs from dist/ and from sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
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
// Spare files (see the comment at the top of write-workers.ts).
const { tag, idleMs, hotFiles } = workerData;
let spareCount = workerData.spares;
const PREFIX = '.heros-archiver-spare.';
/**
 * Per folder: its spare names; writes in the current second and whether it ever reached
 * hotFiles in one (only such folders get spares); last write; until when creating spares is
 * not tried again after a failure.
 */
const folders = new Map();
/** Folders already looked through for spares a killed process left (once per process). */
const scanned = new Set();
let spareSeq = 0;
let refillQueued = false;
function folderOf(dir, now) {
  let f = folders.get(dir);
  if (f === undefined) {
    f = { spares: [], windowStart: now, inWindow: 0, hot: false, lastUse: now, failedUntil: 0 };
    folders.set(dir, f);
  }
  return f;
}
/** An open spare of the folder (its name and fd), or undefined. */
function takeSpare(dir) {
  const f = folders.get(dir);
  while (f !== undefined && f.spares.length > 0) {
    const name = f.spares.pop();
    let fd;
    try {
      fd = fs.openSync(name, fs.constants.O_WRONLY);
      if (fs.fstatSync(fd).size === 0) return { name, fd };
      // Written behind our back (it would leave bytes past the new data): not usable.
      fs.closeSync(fd);
      fd = undefined;
      unlinkQuietly(name);
    } catch {
      // removed behind our back: try the next one
      if (fd !== undefined) try { fs.closeSync(fd); } catch {}
    }
  }
  return undefined;
}
function noteWrite(dir) {
  const now = Date.now();
  const f = folderOf(dir, now);
  f.lastUse = now;
  if (now - f.windowStart >= 1000) {
    f.windowStart = now;
    f.inWindow = 0;
  }
  f.inWindow++;
  if (f.inWindow >= hotFiles) f.hot = true;
  if (spareCount > 0 && f.hot && f.spares.length < spareCount && !refillQueued) {
    refillQueued = true;
    setImmediate(refill);
  }
}
function unlinkQuietly(name) {
  try { fs.unlinkSync(name); } catch {}
}
function dropFolder(dir, f) {
  for (const name of f.spares) unlinkQuietly(name);
  folders.delete(dir);
}
/** Removes spares that a process no longer running left in the folder (SIGKILL). */
function removeStale(dir) {
  let names;
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = parseInt(name.slice(PREFIX.length).split('.')[0], 36);
    if (!(pid > 0) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // alive (another daemon writing here): its spares are its own
    } catch (err) {
      if (err.code === 'EPERM') continue;
    }
    unlinkQuietly(dir + '/' + name);
  }
}
/** Creates one spare where one is missing, then yields to pending writes before the next. */
function refill() {
  refillQueued = false;
  if (spareCount <= 0) return;
  const now = Date.now();
  for (const [dir, f] of folders) {
    if (now - f.lastUse > idleMs) {
      dropFolder(dir, f);
      continue;
    }
    if (!f.hot || f.spares.length >= spareCount || now < f.failedUntil) continue;
    if (!scanned.has(dir)) {
      if (scanned.size >= 10000) scanned.clear();
      scanned.add(dir);
      removeStale(dir);
    }
    const name = dir + '/' + PREFIX + tag + '-' + (spareSeq++).toString(36);
    try {
      fs.closeSync(fs.openSync(name, 'wx'));
      f.spares.push(name);
    } catch {
      // read-only, full, or gone: no spares here for a while; writes create their files.
      f.failedUntil = now + 10 * idleMs;
      continue;
    }
    refillQueued = true;
    setImmediate(refill);
    return;
  }
}
function releaseAll() {
  for (const [dir, f] of folders) dropFolder(dir, f);
}
setInterval(() => {
  const now = Date.now();
  for (const [dir, f] of folders) if (now - f.lastUse > idleMs) dropFolder(dir, f);
}, idleMs).unref();
function errorOf(err) {
  return { message: String(err && err.message || err), code: err && err.code, errno: err && err.errno, syscall: err && err.syscall, path: err && err.path };
}
parentPort.on('message', (req) => {
  if (req.op === 'release') {
    releaseAll();
    parentPort.postMessage({ id: req.id });
    return;
  }
  if (req.op === 'spares') {
    spareCount = req.count;
    if (spareCount <= 0) releaseAll();
    return;
  }
  const dir = path.dirname(req.file);
  let fd;
  let tmp = req.tmp;
  try {
    const spare = takeSpare(dir);
    if (spare !== undefined) {
      tmp = spare.name;
      fd = spare.fd;
    } else {
      fd = openTmp(req);
    }
    try {
      writeAll(fd, req.data);
      if (req.fsync) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, req.file);
    parentPort.postMessage({ id: req.id });
    noteWrite(dir);
  } catch (err) {
    if (fd !== undefined) unlinkQuietly(tmp);
    parentPort.postMessage({ id: req.id, error: errorOf(err) });
  }
  freeData(req.data);
});
/**
 * Frees the moved buffers at once: this thread allocates too little for its garbage collector
 * to run often, and the buffers of thousands of written files would stay resident until it does.
 */
function freeData(data) {
  if (typeof data === 'string') return;
  for (const c of data) {
    const b = c.buffer;
    if (typeof b.transfer === 'function' && !b.detached) b.transfer(0);
  }
}
`;

interface Slot {
  readonly worker: Worker;
  readonly waiting: Map<number, { resolve: () => void; reject: (err: Error) => void }>;
}

/** Workers in the pool (`--write-threads`). Two keep both cores of a small machine busy with
 *  file system calls, and one write that hangs (a stuck mount) does not stop all others. */
let poolSize = 2;
/** Spare files per hot folder and thread (`--spare-files`; 0: none). */
let spareFiles = 8;

/** Sets how many threads write small files (the CLI's `--write-threads`); takes effect for new threads. */
export function setWriteThreads(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`write threads must be a positive integer (got ${n})`);
  poolSize = n;
}
/**
 * Sets how many spare files each thread keeps in a folder written at a high rate (the CLI's
 * `--spare-files`); 0 turns spares off and removes those there are.
 */
export function setSpareFiles(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`spare files must be a non-negative integer (got ${n})`);
  spareFiles = n;
  for (const slot of slots) slot.worker.postMessage({ op: 'spares', count: n } satisfies WorkerRequest);
}

const slots: Slot[] = [];
let nextId = 1;
let tmpCounter = 0;
let slotCounter = 0;
const RANDOM_TAG = randomBytes(4).toString('hex');
/** Makes temporary names unique among processes, also across a restart that reuses the pid. */
const TMP_TAG = `${process.pid.toString(36)}${RANDOM_TAG}`;

function startSlot(): Slot {
  // Spare names start with the pid, so that a later process can tell whether their owner lives.
  const workerData = { tag: `${process.pid.toString(36)}.${RANDOM_TAG}-${(slotCounter++).toString(36)}`, spares: spareFiles, idleMs: SPARE_IDLE_MS, hotFiles: SPARE_HOT_FILES };
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'heros-archiver file writer', workerData });
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

/** The chunks copied into one fresh buffer (one allocation, one transfer). */
function concatCopy(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Writes `data` to `tmp` and renames it to `file` on a worker thread, creating the folder when
 * it is missing. Chunks are copied into one buffer moved to the thread (views into a larger
 * buffer would carry the whole buffer), so this is for small files; errors carry the `code` of the failed call.
 */
export function writeViaWorker(file: string, tmp: string, data: string | readonly Uint8Array[], fsync: boolean): Promise<void> {
  const slot = pick();
  const id = nextId++;
  const req: WriteRequest = { op: 'write', id, file, tmp, data: typeof data === 'string' ? data : [concatCopy(data)], fsync };
  return ask(slot, req, typeof req.data === 'string' ? [] : req.data.map((c) => c.buffer as ArrayBuffer));
}

/** Sends `req` to a thread; settles with the thread's answer to `req.id`. */
function ask(slot: Slot, req: WriteRequest | Extract<WorkerRequest, { op: 'release' }>, transfer: ArrayBuffer[] = []): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    slot.waiting.set(req.id, { resolve, reject });
    if (slot.waiting.size === 1) slot.worker.ref();
    slot.worker.postMessage(req, transfer);
  });
}

/**
 * Removes every thread's spare files (an archiver calls this when it stops); waits at most
 * `timeoutMs` for the threads to answer. Writes after it make new ones as their folders get
 * busy again.
 */
export async function releaseSpareFiles(timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // A thread stuck in a write (a hung mount) answers late or never: stopping does not wait for it.
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  // A thread that dies meanwhile rejects: its spares are then as a crash leaves them.
  const all = Promise.all(slots.map((slot) => ask(slot, { op: 'release', id: nextId++ }).catch(() => undefined)));
  await Promise.race([all, late]);
  clearTimeout(timer);
}
