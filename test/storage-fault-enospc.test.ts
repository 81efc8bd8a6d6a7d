import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetCreatedFolders } from '../src/storage/atomic-file.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { mountTmpfs } from './helpers/tmpfs.js';


describe('disk full (ENOSPC) on a real, small file system', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('keeps every event, reports unhealthy, and resumes by itself when space is freed', async (ctx) => {
    const t = await tempDir();
    const disk = path.join(t.dir, 'disk');
    await mkdir(disk);
    const unmount = mountTmpfs(disk, '1m', 'ENOSPC test');
    if (!unmount) {
      await t.cleanup();
      ctx.skip();
      return;
    }
    forgetCreatedFolders();
    const { boss, publish } = await startBoss(
      {
        _id: 'frames',
        classname: 'JsonArchiver',
        arguments: { object_selector: '*', event_name: 'frame', max_retries: 1, retry_delay_ms: 5, retry_max_delay_ms: 50, save_template: `${disk}/out/{{ '%03d' % n }}.json` },
      },
      { baseDir: t.dir, deadLetterDir: path.join(t.dir, 'dead-letter') },
    );
    cleanup = async () => {
      await boss.stop();
      unmount();
      await t.cleanup();
    };
    // Fill the file system, leaving no room for archive files.
    const filler = path.join(disk, 'filler');
    await writeFile(filler, Buffer.alloc(1024 * 1024)).catch(() => undefined);
    const big = 'x'.repeat(2000);
    for (let n = 0; n < 20; n++) await publish('cam', 'frame', [{ n, big }, { n }]);
    await until(() => (boss.status()[0]?.stats?.storageFaults ?? 0) >= 20, 10_000, 'storage faults');
    const during = boss.status()[0]!;
    expect(during.health).toMatchObject({ healthy: false, fault: { errno: 'ENOSPC' } });
    expect(during.stats).toMatchObject({ received: 20, deadLettered: 0 });
    expect(during.stats?.pending).toBeGreaterThan(0);

    await rm(filler);
    await until(() => boss.status()[0]?.stats?.stored === 20, 20_000, 'all 20 stored after space was freed');
    expect(boss.status()[0]?.health).toEqual({ healthy: true });
    expect(boss.status()[0]?.stats).toMatchObject({ deadLettered: 0, pending: 0 });
    const files = (await readdir(path.join(disk, 'out'))).filter((f) => !f.startsWith('.')).sort();
    expect(files).toEqual(Array.from({ length: 20 }, (_, n) => `${String(n).padStart(3, '0')}.json`));
    expect(JSON.parse(await readFile(path.join(disk, 'out', '007.json'), 'utf8'))).toEqual({ n: 7, big });
    // No temporary file was left behind by the failed attempts.
    expect((await readdir(path.join(disk, 'out'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
