/**
 * Atomic file writes: data goes to a temporary file in the target folder and is renamed over
 * the final name, so no reader ever sees a half-written file under its final name
 * (promise 5). Parent folders are created on demand; created folders are remembered so that a
 * camera writing thousands of files per folder does not pay a `mkdir` per file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

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

/**
 * Writes `chunks` to `file` atomically. With `fsync: 'file'` the data is flushed to the device
 * before the rename. A folder that vanished since it was created is created again.
 */
export async function writeFileAtomic(file: string, chunks: readonly Uint8Array[] | string, fsync: FsyncPolicy = 'none'): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await ensureDir(dir);
  let handle;
  try {
    handle = await open(tmp, 'w');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The folder was removed behind our back: forget it and create it again.
    knownDirs.delete(dir);
    await ensureDir(dir);
    handle = await open(tmp, 'w');
  }
  try {
    try {
      if (typeof chunks === 'string') await handle.writeFile(chunks, 'utf8');
      else if (chunks.length === 1) await handle.writeFile(chunks[0]!);
      else await writeAll(handle, chunks);
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

async function writeAll(handle: import('node:fs/promises').FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
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
