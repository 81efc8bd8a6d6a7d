import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayArchiver } from '../actors/array-archiver.js';
import { JsonArchiver } from '../actors/json-archiver.js';
import { resolveActorClass } from '../src/registry.js';

describe('classname resolution', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ha-registry-'));
    await writeFile(path.join(dir, 'not-actor.mjs'), 'export class Nope {}\nexport default 42;\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['ArrayArchiver', ArrayArchiver],
    ['herostools.actor.ArrayArchiver', ArrayArchiver],
    ['herostools.actor.data_archiver.ArrayArchiver', ArrayArchiver],
    ['JsonArchiver', JsonArchiver],
    ['herostools.actor.JsonArchiver', JsonArchiver],
    ['herostools.actor.data_archiver.JsonArchiver', JsonArchiver],
  ])('built-in %s', async (name, cls) => {
    expect(await resolveActorClass(name, dir)).toBe(cls);
  });

  it('refuses other Python classnames with a hint', async () => {
    await expect(resolveActorClass('mylab.actors.Fancy', dir, 'x')).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_NOT_FOUND', actorId: 'x' });
  });

  it('reports a missing module, a missing export and a non-actor export', async () => {
    await expect(resolveActorClass('./missing.js#A', dir)).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_NOT_FOUND' });
    await expect(resolveActorClass('./not-actor.mjs#Other', dir)).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_NOT_FOUND' });
    await expect(resolveActorClass('./not-actor.mjs#Nope', dir)).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_INVALID' });
    await expect(resolveActorClass('./not-actor.mjs', dir)).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_INVALID' });
  });

  it('reports an uninstalled package', async () => {
    await expect(resolveActorClass('no-such-package-xyz#A', dir)).rejects.toMatchObject({ code: 'ARCHIVER_CLASS_NOT_FOUND' });
  });
});
