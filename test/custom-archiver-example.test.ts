import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { pyFloat } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

describe('examples/custom-archiver (a DataArchiver subclass loaded by module path)', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('loads ./csv-archiver.js#CsvArchiver relative to the manifest and stores through it', async () => {
    const t = await tempDir();
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'examples/custom-archiver/boss.json'), 'utf8')) as { arguments: Record<string, unknown> }[];
    manifest[0]!.arguments.file = path.join(t.dir, 'archive/temperature.csv');
    const { boss, publish, deadLetterDir } = await startBoss(manifest, { baseDir: path.join(repoRoot, 'examples/custom-archiver'), deadLetterDir: path.join(t.dir, 'dead-letter') });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('fridge', 'temperature', [pyFloat(4), { unit: 'C' }]);
    await publish('oven', 'temperature', [180.5, { unit: 'C' }]);
    await publish('oven', 'temperature', ['hot', { unit: 'C' }]);
    await until(() => boss.status()[0]?.stats?.stored === 2 && boss.status()[0]?.stats?.deadLettered === 1);
    const lines = (await readFile(path.join(t.dir, 'archive/temperature.csv'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => l.split(',').slice(1))).toEqual([
      ['fridge', '4', 'C'],
      ['oven', '180.5', 'C'],
    ]);
    const [dead] = await new DeadLetterStore(deadLetterDir).list('temperature-log');
    expect(dead?.record.code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });
});
