/**
 * Where the time of one small archive file goes: heros-archiver's writeFileAtomic (temporary
 * file + rename through fs/promises FileHandles, one store at a time as with concurrency 1)
 * against the same four system calls made other ways. Evidence for the 1 KiB JSON profile.
 *
 *   PATH=.tools/node/bin:$PATH npm run build && node bench/small-files.ts [--files 5000] [--size 1024] [--dir D]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync, close, open, rename, write } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';

const { writeFileAtomic, writeFileAtomicAsync } = (await import('../dist/src/storage/atomic-file.js')) as {
  writeFileAtomic: (file: string, data: readonly Uint8Array[] | string, fsync?: 'none' | 'file') => Promise<void>;
  writeFileAtomicAsync: (file: string, tmp: string, data: readonly Uint8Array[] | string, fsync: 'none' | 'file') => Promise<void>;
};
const { values } = parseArgs({ options: { files: { type: 'string', default: '5000' }, size: { type: 'string', default: '1024' }, dir: { type: 'string' } } });
const N = Number(values.files);
const text = 'x'.repeat(Number(values.size));
const base = await mkdtemp(path.join(values.dir ?? os.tmpdir(), 'small-files-'));
const pOpen = promisify(open);
const pWrite = promisify(write) as (fd: number, s: string) => Promise<unknown>;
const pClose = promisify(close);
const pRename = promisify(rename);

/** Flushes dirty pages and waits for writeback to end, so that no run pays for the last one. */
function settle(): void {
  execFileSync('sync');
  for (let i = 0; i < 100; i++) {
    const m = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(m)?.[1] ?? 0);
    if (kb('Dirty') + kb('Writeback') < 1024) return;
    execFileSync('sleep', ['0.1']);
  }
}

let runs = 0;
async function measure(name: string, fn: (dir: string, i: number) => Promise<void> | void, inFlight = 1): Promise<void> {
  settle();
  const dir = path.join(base, `${name.replace(/\W+/g, '-')}-${++runs}`);
  mkdirSync(dir);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < N) await fn(dir, next++);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(`${name.padEnd(58)} ${Math.round(N / s).toString().padStart(7)} files/s  ${((s / N) * 1e6).toFixed(0).padStart(5)} µs/file`);
  // Not deleted until the end: freeing blocks on a file system mounted with `discard` slows the
  // file creation of the next measurement (about 1 ms per file instead of 40 µs here).
}

for (let round = 0; round < 2; round++) {
  console.log(`round ${round + 1}: ${N} files of ${text.length} bytes, load average ${os.loadavg()[0]!.toFixed(2)}`);
  await measure('writeFileAtomic (worker threads), 1 at a time', (d, i) => writeFileAtomic(path.join(d, `${i}.json`), text));
  await measure('writeFileAtomic (worker threads), 8 at a time', (d, i) => writeFileAtomic(path.join(d, `${i}.json`), text), 8);
  await measure('fs/promises FileHandle path, 1 at a time', (d, i) => writeFileAtomicAsync(path.join(d, `${i}.json`), path.join(d, `.${i}.json.tmp`), text, 'none'));
  await measure('fs/promises FileHandle path, 8 at a time', (d, i) => writeFileAtomicAsync(path.join(d, `${i}.json`), path.join(d, `.${i}.json.tmp`), text, 'none'), 8);
  await measure('callback fs open/write/close/rename, 1 at a time', async (d, i) => {
    const tmp = path.join(d, `.${i}.json.tmp`);
    const fd = await pOpen(tmp, 'w');
    await pWrite(fd, text);
    await pClose(fd);
    await pRename(tmp, path.join(d, `${i}.json`));
  });
  await measure('sync open/write/close, no rename (what herostools does)', (d, i) => {
    const fd = openSync(path.join(d, `${i}.json`), 'w');
    writeSync(fd, text);
    closeSync(fd);
  });
  await measure('sync openSync/writeSync/closeSync/renameSync', (d, i) => {
    const tmp = path.join(d, `.${i}.json.tmp`);
    const fd = openSync(tmp, 'w');
    writeSync(fd, text);
    closeSync(fd);
    renameSync(tmp, path.join(d, `${i}.json`));
  });
}
rmSync(base, { recursive: true, force: true });
