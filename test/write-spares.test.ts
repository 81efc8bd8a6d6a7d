/**
 * Spare files: a folder written at a high rate gets empty files made ahead of time, into which
 * the next files are written (no file creation on the way from event to file). Real threads,
 * real files.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/storage/atomic-file.js';
import { releaseSpareFiles, setSpareFiles, SPARE_HOT_FILES, SPARE_IDLE_MS } from '../src/storage/write-workers.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

const PREFIX = '.heros-archiver-spare.';

async function spares(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(PREFIX)).sort();
}

async function visible(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
}

/** Writes `n` files `<from + i>.bin` holding their own number, one after another. */
async function writeMany(dir: string, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await writeFileAtomic(path.join(dir, `${i}.bin`), [Buffer.from(`file ${i}\n`)]);
}

describe('spare files', () => {
  let cleanup = async () => {};
  afterEach(async () => {
    await releaseSpareFiles();
    setSpareFiles(8);
    await cleanup();
  });

  it('a folder written at a high rate gets spares; later files are written into them, content intact', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    setSpareFiles(3);
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 4);
    await until(async () => (await spares(t.dir)).length >= 3, 10_000, 'spares made');
    const made = await spares(t.dir);
    // Named after this process, empty.
    expect(made.every((n) => n.startsWith(`${PREFIX}${process.pid.toString(36)}.`))).toBe(true);
    const spareInodes = new Set<number>();
    for (const n of made) {
      const st = await stat(path.join(t.dir, n));
      expect(st.size).toBe(0);
      spareInodes.add(st.ino);
    }
    // The next file is one of the spares, renamed after being written.
    const next = SPARE_HOT_FILES + 4;
    await writeMany(t.dir, next, 1);
    expect(spareInodes.has((await stat(path.join(t.dir, `${next}.bin`))).ino)).toBe(true);
    await writeMany(t.dir, next + 1, 30);
    const files = await visible(t.dir);
    expect(files).toHaveLength(next + 31);
    for (const f of files) expect(await readFile(path.join(t.dir, f), 'utf8')).toBe(`file ${parseInt(f, 10)}\n`);
    // Released on demand (as archivers do when they stop): only the files remain.
    await releaseSpareFiles();
    expect(await spares(t.dir)).toEqual([]);
    expect(await readdir(t.dir)).toHaveLength(next + 31);
  });

  it('a folder written a few times gets none', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await writeMany(t.dir, 0, SPARE_HOT_FILES - 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(await readdir(t.dir)).toHaveLength(SPARE_HOT_FILES - 2);
  });

  it('spares of a folder that has gone quiet are removed', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    setSpareFiles(2);
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 2);
    await until(async () => (await spares(t.dir)).length >= 2, 10_000, 'spares made');
    const quietSince = Date.now();
    await until(async () => (await spares(t.dir)).length === 0, 4 * SPARE_IDLE_MS + 5000, 'spares removed');
    expect(Date.now() - quietSince).toBeGreaterThanOrEqual(SPARE_IDLE_MS - 100);
    expect(await visible(t.dir)).toHaveLength(SPARE_HOT_FILES + 2);
  });

  it('a spare removed behind the writer\'s back does not fail a write', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    setSpareFiles(4);
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 2);
    await until(async () => (await spares(t.dir)).length >= 4, 10_000, 'spares made');
    for (const n of await spares(t.dir)) await rm(path.join(t.dir, n));
    await writeMany(t.dir, 100, 3);
    for (const i of [100, 101, 102]) expect(await readFile(path.join(t.dir, `${i}.bin`), 'utf8')).toBe(`file ${i}\n`);
  });

  it('a spare written behind the writer\'s back is not used (no stale bytes in a file)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    setSpareFiles(4);
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 2);
    await until(async () => (await spares(t.dir)).length >= 4, 10_000, 'spares made');
    const tampered = await spares(t.dir);
    for (const n of tampered) await writeFile(path.join(t.dir, n), 'x'.repeat(1000));
    await writeMany(t.dir, 100, 3);
    for (const i of [100, 101, 102]) expect(await readFile(path.join(t.dir, `${i}.bin`), 'utf8')).toBe(`file ${i}\n`);
    // The tampered ones are gone once tried (new, empty spares may be there).
    await releaseSpareFiles();
    const left = await readdir(t.dir);
    for (const n of tampered) expect(left).not.toContain(n);
  });

  it('removes the spares a killed process left, keeps those of a process that runs', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const deadSpare = `${PREFIX}${gone.toString(36)}.0badc0de-0-0`;
    const liveSpare = `${PREFIX}${process.ppid.toString(36)}.0badc0de-0-1`;
    await writeFile(path.join(t.dir, deadSpare), '');
    await writeFile(path.join(t.dir, liveSpare), '');
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 2);
    await until(async () => !(await readdir(t.dir)).includes(deadSpare), 10_000, 'the dead process\'s spare removed');
    expect(await readdir(t.dir)).toContain(liveSpare);
  });

  it('--spare-files 0 makes none and removes those there are', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await writeMany(t.dir, 0, SPARE_HOT_FILES + 2);
    await until(async () => (await spares(t.dir)).length > 0, 10_000, 'spares made');
    setSpareFiles(0);
    await until(async () => (await spares(t.dir)).length === 0, 10_000, 'spares removed');
    await writeMany(t.dir, 100, SPARE_HOT_FILES * 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(await spares(t.dir)).toEqual([]);
    expect(setSpareFiles.bind(undefined, -1)).toThrow(RangeError);
  });

  it('an archiver that stops leaves only its files', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'out');
    const { boss, publish } = await startBoss(
      [{ _id: 'fast', classname: 'JsonArchiver', arguments: { object_selector: 'cam', event_name: 'frame', save_template: `${out}/{{ n }}.json` } }],
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const n = SPARE_HOT_FILES * 3;
    for (let i = 0; i < n; i++) await publish('cam', 'frame', [{ n: i }, { n: i }]);
    await until(() => boss.status()[0]?.stats?.stored === n, 10_000, 'all stored');
    await until(async () => (await spares(out)).length > 0, 10_000, 'spares made');
    await boss.stop();
    const left = await readdir(out);
    expect(left).toHaveLength(n);
    expect(left.every((f) => /^\d+\.json$/.test(f))).toBe(true);
  });
});
