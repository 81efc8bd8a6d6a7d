import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin } from './helpers/daemon.js';
import { tempDir } from './helpers/harness.js';

describe('the heros-archiver launcher', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('starts the CLI with MALLOC_ARENA_MAX=2 and MALLOC_MMAP_THRESHOLD_=131072 unless the operator set them', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    // A stand-in for node: passes the launcher's version check, then prints what it was given.
    const fake = path.join(t.dir, 'node');
    await writeFile(fake, '#!/bin/sh\nif [ "$1" = "-e" ]; then exit 0; fi\necho "arena=${MALLOC_ARENA_MAX} mmap=${MALLOC_MMAP_THRESHOLD_} last=$(eval echo \\${$#})"\n');
    await chmod(fake, 0o755);
    const run = (env: Record<string, string>) => spawnSync(bin, ['version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HEROS_ARCHIVER_NODE: fake, ...env } });
    expect(run({}).stdout.trim()).toBe('arena=2 mmap=131072 last=version');
    expect(run({ MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '1048576' }).stdout.trim()).toBe('arena=8 mmap=1048576 last=version');
  });

  it('starts node with 4 MiB semi-spaces, then HEROS_ARCHIVER_NODE_FLAGS (which win), before the CLI; a real node takes them', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const fake = path.join(t.dir, 'node');
    await writeFile(fake, '#!/bin/sh\nif [ "$1" = "-e" ]; then exit 0; fi\necho "$@"\n');
    await chmod(fake, 0o755);
    const plain = spawnSync(bin, ['version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HEROS_ARCHIVER_NODE: fake } });
    expect(plain.stdout.trim().split(' ').slice(0, 2)).toEqual(['--max-semi-space-size=4', '--enable-source-maps']);
    const args = spawnSync(bin, ['version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HEROS_ARCHIVER_NODE: fake, HEROS_ARCHIVER_NODE_FLAGS: '--optimize-for-size --max-semi-space-size=16' } });
    expect(args.stdout.trim().split(' ').slice(0, 4)).toEqual(['--max-semi-space-size=4', '--optimize-for-size', '--max-semi-space-size=16', '--enable-source-maps']);
    expect(args.stdout.trim().endsWith('dist/src/cli.js version')).toBe(true);
    const real = spawnSync(bin, ['version'], { encoding: 'utf8', env: { ...process.env, HEROS_ARCHIVER_NODE_FLAGS: '--optimize-for-size' } });
    expect(real.status, real.stderr).toBe(0);
    expect(real.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
