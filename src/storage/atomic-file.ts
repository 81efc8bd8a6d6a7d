/**
 * Atomic file writes: data goes to a temporary file in the target folder and is renamed over
 * the final name, so no reader ever sees a half-written file under its final name
 * (promise 5). Parent folders are created on demand: small files on a worker thread when the
 * open finds no folder, large ones from a cache of created folders, so that a camera writing
 * thousands of files per folder does not pay a `mkdir` per file.
 */
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { temporaryName, writeViaWorker } from './write-workers.js';

/** When file data is forced to the device. */
export type FsyncPolicy = 'none' | 'file';

const knownDirs = new Set<string>();
const KNOWN_DIRS_MAX = 10_000;

async function ensureDir(dir: string): Promise<void> {
  if (knownDirs.has(dir)) return;
  await mkdir(dir, { recursive: true });
  if (knownDirs.size >= KNOWN_DIRS_MAX) knownDirs.clear();
  knownDirs.add(dir);
}

/** Files up to this size are written on a worker thread in one go (see write-workers.ts). */
export const SMALL_FILE_BYTES = 1024 * 1024;

/**
 * Writes `chunks` to `file` atomically. With `fsync: 'file'` the data is flushed to the device
 * before the rename. A folder that vanished since it was created is created again. Small files
 * are written on a worker thread (one round trip instead of one per system call); large ones
 * through fs/promises, which writes them without a copy.
 */
export async function writeFileAtomic(file: string, chunks: readonly Uint8Array[] | string, fsync: FsyncPolicy = 'none'): Promise<void> {
  const dir = path.dirname(file);
  const tmp = temporaryName(dir, path.basename(file));
  const size = typeof chunks === 'string' ? chunks.length * 3 : chunks.reduce((n, c) => n + c.byteLength, 0);
  if (size <= SMALL_FILE_BYTES) return writeViaWorker(file, tmp, chunks, fsync === 'file');
  return writeFileAtomicAsync(file, tmp, chunks, fsync);
}

/** The fs/promises path: the data is written from where it lies. */
export async function writeFileAtomicAsync(file: string, tmp: string, chunks: readonly Uint8Array[] | string, fsync: FsyncPolicy): Promise<void> {
  await writeThroughTemporary(file, tmp, fsync, async (handle) => {
    if (typeof chunks === 'string') await handle.writeFile(chunks, 'utf8');
    else if (chunks.length === 1) await handle.writeFile(chunks[0]!);
    else await writeAll(handle, chunks);
  });
}

/**
 * Creates `tmp` (its folder too, when missing), lets `write` fill it, syncs it with `fsync:
 * 'file'`, and renames it to `file`; on failure `tmp` is removed.
 */
export async function writeThroughTemporary(file: string, tmp: string, fsync: FsyncPolicy, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  let handle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The folder was removed behind our back: forget it and create it again.
    knownDirs.delete(dir);
    await ensureDir(dir);
    handle = await open(tmp, 'wx');
  }
  try {
    try {
      await write(handle);
      if (fsync === 'file') await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function writeAll(handle: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  // writev may write less than asked (large buffers, signals): continue where it stopped.
  let pending = chunks.filter((c) => c.byteLength > 0);
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending as Uint8Array[]);
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const c of pending) {
      if (skip >= c.byteLength) {
        skip -= c.byteLength;
        continue;
      }
      rest.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
    pending = rest;
  }
}

/** Forgets remembered folders (tests, or after an operator removed folders). */
export function forgetCreatedFolders(): void {
  knownDirs.clear();
}
