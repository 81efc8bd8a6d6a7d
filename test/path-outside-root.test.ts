import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { resolveArchivePath, resolveArchivePathFully } from '../src/storage/archive-path.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('rendered paths are kept inside the archive root', () => {
  const where = { root: '/srv/archive', baseDir: '/srv/archive' };
  it.each(['../etc/passwd', 'a/../../b', '/etc/passwd', '', 'a\0b', 'dir/'])('refuses %j', (p) => {
    expect(() => resolveArchivePath(p, where)).toThrow(expect.objectContaining({ code: 'ARCHIVER_PATH_OUTSIDE_ROOT' }));
  });
  it.each([
    ['run1/f.npy', '/srv/archive/run1/f.npy'],
    ['/srv/archive/x.json', '/srv/archive/x.json'],
    // A name that starts with two dots is no `..` segment.
    ['..x/f.npy', '/srv/archive/..x/f.npy'],
    ['/srv/archive/..x', '/srv/archive/..x'],
  ])('accepts %j', (p, abs) => {
    expect(resolveArchivePath(p, where)).toBe(abs);
  });

  it('the shortcut for plain paths gives what the full check gives, for 20,000 generated paths', () => {
    const segments = ['a', 'run 1', 'f.npy', '.', '..', '', ' ', 'x\\y', 'é', '.hidden', '..x', 'x..', 'srv', 'archive', '\0'];
    const wheres = [
      { root: '/', baseDir: '/' },
      { root: '/', baseDir: '/srv/archive' },
      { root: '/srv/archive', baseDir: '/srv/archive' },
      { root: '/srv/archive', baseDir: '/srv/archive/day' },
      { root: '/srv/archive', baseDir: '/tmp/work' },
      { root: '/srv/archive/', baseDir: '/srv//archive' },
      { root: '/srv', baseDir: '/srv/./archive' },
    ];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const outcome = (f: () => string): string => {
      try {
        return f();
      } catch (err) {
        return `refused ${(err as { code?: string }).code}`;
      }
    };
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      const parts = Array.from({ length: 1 + rand(5) }, () => segments[rand(segments.length)]!);
      const rendered = (rand(3) === 0 ? '/' : '') + (rand(4) === 0 ? 'srv/archive/' : '') + parts.join('/') + (rand(10) === 0 ? '/' : '');
      const where = wheres[rand(wheres.length)]!;
      const full = outcome(() => resolveArchivePathFully(rendered, where));
      expect(outcome(() => resolveArchivePath(rendered, where)), `${JSON.stringify(rendered)} in ${JSON.stringify(where)}`).toBe(full);
      if (!full.startsWith('refused')) plain++;
    }
    // Both outcomes occur often enough to mean something.
    expect(plain).toBeGreaterThan(2000);
    expect(plain).toBeLessThan(18_000);
  });

  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('dead-letters an event whose metadata steers the path out of the root', async () => {
    const t = await tempDir();
    const { boss, publish, deadLetterDir } = await startBoss(
      { _id: 'j', classname: 'JsonArchiver', arguments: { object_selector: 's', event_name: 'e', save_template: 'data/{{ name }}.json' } },
      { baseDir: t.dir, root: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('s', 'e', [{}, { name: '../../escape' }]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 1);
    const [entry] = await new DeadLetterStore(deadLetterDir).list('j');
    expect(entry?.record.code).toBe('ARCHIVER_PATH_OUTSIDE_ROOT');
  });
});
