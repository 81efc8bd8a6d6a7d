import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { resolveArchivePath } from '../src/storage/archive-path.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('rendered paths are kept inside the archive root', () => {
  const where = { root: '/srv/archive', baseDir: '/srv/archive' };
  it.each(['../etc/passwd', 'a/../../b', '/etc/passwd', '', 'a\0b', 'dir/'])('refuses %j', (p) => {
    expect(() => resolveArchivePath(p, where)).toThrow(expect.objectContaining({ code: 'ARCHIVER_PATH_OUTSIDE_ROOT' }));
  });
  it.each([
    ['run1/f.npy', '/srv/archive/run1/f.npy'],
    ['/srv/archive/x.json', '/srv/archive/x.json'],
  ])('accepts %j', (p, abs) => {
    expect(resolveArchivePath(p, where)).toBe(abs);
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
