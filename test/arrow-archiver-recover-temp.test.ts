import { copyFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSchema, rowsToBatch } from '../src/formats/arrow-table.js';
import { ArrowStreamFile } from '../src/storage/arrow-stream-file.js';
import { temporaryName } from '../src/storage/write-workers.js';
import { startBoss, tempDir } from './helpers/harness.js';

describe('ArrowArchiver at start, after a finalisation cut short', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('removes the temporary copies a kill left (current and earlier names, finishing and creating), finishes the stream, and keeps files that are not its own', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = path.join(t.dir, 'archive');
    const schema = fileSchema([{ name: 'n', kind: 'int64' }]);
    const stream = await ArrowStreamFile.create(path.join(out, 'robot.arrow'), schema, 'none');
    await stream.append(rowsToBatch(schema, [0, 1, 2].map((n) => ({ source: 'robot', receivedAt: 1_700_000_000_000 + n, values: [n] }))));
    await stream.close();
    // What a kill during finishing leaves: a partial copy under a temporary name.
    const current = temporaryName(out, 'robot.arrow');
    const earlier = path.join(out, '.robot.arrow.3fa9c2.tmp');
    await copyFile(`${path.join(out, 'robot.arrow')}s`, current);
    await copyFile(`${path.join(out, 'robot.arrow')}s`, earlier);
    // And what a kill while creating a stream leaves: the schema under a temporary name.
    const creating = temporaryName(out, 'robot.2.arrows');
    await copyFile(`${path.join(out, 'robot.arrow')}s`, creating);
    // Not temporary files of a finalisation: kept.
    await writeFile(path.join(out, '.notes.txt.tmp'), 'x');
    await writeFile(path.join(out, 'robot.arrow.tmp'), 'x');

    const { boss } = await startBoss(
      { _id: 'tel', classname: 'ArrowArchiver', arguments: { object_selector: '*', event_name: 'e', save_template: `${out}/{{ source }}.arrow` } },
      { baseDir: t.dir },
    );
    await boss.stop();
    expect((await readdir(out)).sort()).toEqual(['.notes.txt.tmp', 'robot.arrow', 'robot.arrow.tmp']);
    expect(path.basename(current)).toMatch(/^\.robot\.arrow\.[0-9a-z]+-[0-9a-z]+\.tmp$/);
    const table = tableFromIPC(await readFile(path.join(out, 'robot.arrow')));
    expect(Array.from(table.getChild('n')!, Number)).toEqual([0, 1, 2]);
  });
});
