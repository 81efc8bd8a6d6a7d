import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import { DeadLetterStore } from '../src/dead-letter.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('dead-letter retry after the cause is fixed', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('a store that always fails is dead-lettered; `dead-letter retry` stores it once fixed and removes the entry', async () => {
    const t = await tempDir();
    const manifest = {
      _id: 'readings',
      classname: 'JsonArchiver',
      arguments: { object_selector: '*', event_name: 'reading', max_retries: 2, retry_delay_ms: 1, save_template: `${t.dir}/out/{{ n }}.json` },
    };
    // The fault: "out" is a file, so no file can be created below it (ENOTDIR), for root too.
    await writeFile(path.join(t.dir, 'out'), 'not a folder');
    const { boss, publish, deadLetterDir } = await startBoss(manifest, { baseDir: t.dir });
    cleanup = t.cleanup;
    await publish('sensor', 'reading', [{ value: 1.5 }, { n: 1 }]);
    await publish('sensor', 'reading', [{ value: 2.5 }, { n: 2 }]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 2);
    await boss.stop();
    const store = new DeadLetterStore(deadLetterDir);
    expect((await store.list('readings')).map((e) => [e.record.code, e.record.attempts])).toEqual([
      ['ARCHIVER_RETRIES_EXHAUSTED', 3],
      ['ARCHIVER_RETRIES_EXHAUSTED', 3],
    ]);

    const manifestFile = path.join(t.dir, 'boss.json');
    await writeFile(manifestFile, JSON.stringify(manifest));
    const io = { text: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.text += s) };
    // Still broken: both fail again and keep (fresh) entries.
    expect(await main(['dead-letter', 'retry', 'readings', '-m', manifestFile, '--dead-letter-dir', deadLetterDir, '--log-level', 'silent'], io)).toBe(EXIT.DATA);
    expect(await store.list('readings')).toHaveLength(2);

    await rm(path.join(t.dir, 'out'));
    expect(await main(['dead-letter', 'retry', 'readings', '-m', manifestFile, '--dead-letter-dir', deadLetterDir, '--log-level', 'silent'], io)).toBe(EXIT.OK);
    expect(io.text).toContain('readings: 2 entries, 2 stored, 0 failed again');
    expect(await store.list('readings')).toHaveLength(0);
    expect(await readFile(path.join(t.dir, 'out', '1.json'), 'utf8')).toBe('{\n    "value": 1.5\n}');
    expect(await readFile(path.join(t.dir, 'out', '2.json'), 'utf8')).toBe('{\n    "value": 2.5\n}');
  });
});
