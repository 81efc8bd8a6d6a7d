import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetCreatedFolders } from '../src/storage/atomic-file.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { mountTmpfs } from './helpers/tmpfs.js';


function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
}

const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${String(from + i).padStart(3, '0')}.json`);

describe('storage faults other than a full disk', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('read-only file system (EROFS): keeps every event, reports unhealthy, dead-letters nothing, resumes after remount rw', async (ctx) => {
    const t = await tempDir();
    const disk = path.join(t.dir, 'disk');
    await mkdir(disk);
    const unmount = mountTmpfs(disk, '4m', 'read-only test');
    if (!unmount) {
      await t.cleanup();
      ctx.skip();
      return;
    }
    forgetCreatedFolders();
    // The spool and the dead-letter folder live outside the file system that goes read-only.
    const { boss, publish } = await startBoss(
      {
        _id: 'frames',
        classname: 'JsonArchiver',
        arguments: { object_selector: '*', event_name: 'frame', max_retries: 1, retry_delay_ms: 5, retry_max_delay_ms: 50, save_template: `${disk}/out/{{ '%03d' % n }}.json` },
      },
      { baseDir: t.dir, deadLetterDir: path.join(t.dir, 'dead-letter') },
    );
    let readOnly = false;
    cleanup = async () => {
      await boss.stop();
      if (readOnly) remount(disk, 'rw');
      unmount();
      await t.cleanup();
    };
    // Archiving works, and the target folder exists, before the fault.
    for (let n = 0; n < 5; n++) await publish('cam', 'frame', [{ n }, { n }]);
    await until(() => boss.status()[0]?.stats?.stored === 5, 10_000, 'the first 5 stored');

    remount(disk, 'ro');
    readOnly = true;
    for (let n = 5; n < 25; n++) await publish('cam', 'frame', [{ n }, { n }]);
    // Twice as many failures as events, with max_retries=1: were a read-only file system counted
    // as the events' fault, they would be in the dead-letter folder by now.
    await until(() => (boss.status()[0]?.stats?.storageFaults ?? 0) >= 40, 10_000, 'storage faults');
    const during = boss.status()[0]!;
    expect(during.health).toMatchObject({ healthy: false, fault: { errno: 'EROFS' } });
    expect(during.stats).toMatchObject({ received: 25, stored: 5, deadLettered: 0, pending: 20 });

    remount(disk, 'rw');
    readOnly = false;
    await until(() => boss.status()[0]?.stats?.stored === 25, 20_000, 'all 25 stored after the remount');
    expect(boss.status()[0]?.health).toEqual({ healthy: true });
    expect(boss.status()[0]?.stats).toMatchObject({ received: 25, deadLettered: 0, pending: 0 });
    const entries = await readdir(path.join(disk, 'out'));
    expect(entries.filter((f) => !f.startsWith('.')).sort()).toEqual(names(0, 25));
    expect(entries.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const n of [0, 5, 24]) expect(JSON.parse(await readFile(path.join(disk, 'out', names(n, n + 1)[0]!), 'utf8'))).toEqual({ n });
    await expect(readdir(path.join(t.dir, 'dead-letter'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a target folder removed while running is created again; nothing is lost', async () => {
    const t = await tempDir();
    const archive = path.join(t.dir, 'archive');
    forgetCreatedFolders();
    const { boss, publish } = await startBoss(
      {
        _id: 'frames',
        classname: 'JsonArchiver',
        arguments: { object_selector: '*', event_name: 'frame', save_template: `${archive}/day/{{ '%03d' % n }}.json` },
      },
      { baseDir: t.dir, deadLetterDir: path.join(t.dir, 'dead-letter') },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const stats = () => boss.status()[0]!.stats!;
    for (let n = 0; n < 20; n++) await publish('cam', 'frame', [{ n }, { n }]);
    await until(() => stats().stored === 20, 10_000, 'the first 20 stored');

    // An operator (or a cleanup job) removes the whole tree the archiver remembers as created.
    await rm(archive, { recursive: true, force: true });
    for (let n = 20; n < 40; n++) await publish('cam', 'frame', [{ n }, { n }]);
    await until(() => stats().stored === 40, 10_000, 'the next 20 stored');
    // (Spare files — empty, hidden — may sit next to them: the folder is written at a high rate.)
    expect((await readdir(path.join(archive, 'day'))).filter((f) => !f.startsWith('.heros-archiver-spare.')).sort()).toEqual(names(20, 40));

    // Again, while a burst is being stored: whatever was written before the removal is gone
    // with the folder, but no event fails, and every event after it is on disk.
    for (let n = 40; n < 240; n++) void publish('cam', 'frame', [{ n }, { n }]);
    await until(() => stats().stored >= 60, 10_000, 'the burst under way');
    // Moved away in one step, then deleted: a recursive delete would race with the files the
    // archiver keeps writing into the folder it re-creates.
    await rename(archive, `${archive}.removed`);
    const storedAtRemoval = stats().stored;
    await rm(`${archive}.removed`, { recursive: true, force: true });
    await until(() => stats().stored === 240, 20_000, 'the burst stored');
    expect(stats()).toMatchObject({ received: 240, deadLettered: 0, pending: 0 });
    expect(boss.status()[0]?.health).toEqual({ healthy: true });
    const after = new Set((await readdir(path.join(archive, 'day'))).filter((f) => !f.startsWith('.')));
    // Stores start in order, 8 at a time (the default concurrency): every event after those in
    // flight at the removal is there (those may have landed in the moved folder).
    const missing = names(storedAtRemoval + 1 + 8, 240).filter((f) => !after.has(f));
    expect(missing).toEqual([]);
    expect((await readdir(path.join(archive, 'day'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await readFile(path.join(archive, 'day', '239.json'), 'utf8'))).toEqual({ n: 239 });
    await expect(readdir(path.join(t.dir, 'dead-letter'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
