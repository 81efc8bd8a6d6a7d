import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin } from './helpers/daemon.js';
import { tempDir } from './helpers/harness.js';

describe('the heros-archiver launcher', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('starts the CLI with MALLOC_ARENA_MAX=2 unless the operator set it', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    // A stand-in for node: passes the launcher's version check, then prints what it was given.
    const fake = path.join(t.dir, 'node');
    await writeFile(fake, '#!/bin/sh\nif [ "$1" = "-e" ]; then exit 0; fi\necho "arena=${MALLOC_ARENA_MAX} last=$(eval echo \\${$#})"\n');
    await chmod(fake, 0o755);
    const run = (env: Record<string, string>) => spawnSync(bin, ['version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HEROS_ARCHIVER_NODE: fake, ...env } });
    expect(run({}).stdout.trim()).toBe('arena=2 last=version');
    expect(run({ MALLOC_ARENA_MAX: '8' }).stdout.trim()).toBe('arena=8 last=version');
  });
});
