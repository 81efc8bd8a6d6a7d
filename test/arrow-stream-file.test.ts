import { readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { arrowArchiveDir } from '../src/arrow-query.js';
import { fileSchema, rowsToBatch } from '../src/formats/arrow-table.js';
import { ArrowStreamFile, finalizeStreamFile } from '../src/storage/arrow-stream-file.js';
import { tempDir } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

describe('Arrow stream files after a crash', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('a torn last batch is dropped; the complete batches become a readable .arrow file', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'x.arrow');
    const schema = fileSchema([{ name: 'n', kind: 'int64' }]);
    const file = await ArrowStreamFile.create(final, schema, 'batch');
    for (let b = 0; b < 3; b++) {
      await file.append(rowsToBatch(schema, Array.from({ length: 4 }, (_, i) => ({ source: 's', receivedAt: 1, values: [BigInt(b * 4 + i)] }))));
    }
    await file.close();
    const size = (await stat(`${final}s`)).size;
    await truncate(`${final}s`, size - 5); // a crash in the middle of the third batch
    const res = await finalizeStreamFile(`${final}s`);
    expect(res).toMatchObject({ file: final, rows: 8 });
    expect(res.tornBytes).toBeGreaterThan(0);
    expect(await readdir(t.dir)).toEqual(['x.arrow']);
    const py = runPython(`import sys, pyarrow.ipc as ipc
print(ipc.open_file(sys.argv[1]).read_all().column('n').to_pylist())`, '', [final]).toString().trim();
    expect(py).toBe('[0, 1, 2, 3, 4, 5, 6, 7]');
    // Running it again (a crash after the rename) only removes what is left.
    expect(await finalizeStreamFile(`${final}s`)).toMatchObject({ file: final });
  });

  it('a stream is never empty: it appears with its schema, readable before the first batch; a second create fails with EEXIST', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const final = path.join(t.dir, 'y.arrow');
    const schema = fileSchema([{ name: 'n', kind: 'int64' }, { name: 'label', kind: 'utf8' }]);
    const file = await ArrowStreamFile.create(final, schema, 'none');
    expect(await readdir(t.dir)).toEqual(['y.arrows']);
    const read = () =>
      runPython(`import sys, pyarrow.ipc as ipc
t = ipc.open_stream(sys.argv[1]).read_all()
print(t.schema.names, t.num_rows)`, '', [`${final}s`]).toString().trim();
    expect(read()).toBe("['source', 'received_at', 'n', 'label'] 0");
    await expect(ArrowStreamFile.create(final, schema, 'none')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readdir(t.dir)).toEqual(['y.arrows']);
    await file.append(rowsToBatch(schema, [{ source: 's', receivedAt: 1, values: [7n, 'seven'] }]));
    await file.close();
    expect(read()).toBe("['source', 'received_at', 'n', 'label'] 1");
    // Finished with no batch written (a crash right after the create): nothing is left.
    const empty = await ArrowStreamFile.create(path.join(t.dir, 'z.arrow'), schema, 'none');
    await empty.close();
    expect(await finalizeStreamFile(path.join(t.dir, 'z.arrows'))).toEqual({ file: undefined, rows: 0, tornBytes: 0 });
    expect((await readdir(t.dir)).sort()).toEqual(['y.arrows']);
  });

  it('the archive folder is archive_dir, or the fixed folder of save_template', () => {
    expect(arrowArchiveDir({ save_template: '/srv/a/{{ source }}/{{ date }}.arrow' })).toBe('/srv/a');
    expect(arrowArchiveDir({ save_template: '/srv/a/b/t-{{ date }}.arrow' })).toBe('/srv/a/b');
    expect(arrowArchiveDir({ save_template: '{{ file_path }}/x.arrow' })).toBeUndefined();
    expect(arrowArchiveDir({ save_template: '{{ file_path }}/x.arrow', archive_dir: '/data' })).toBe('/data');
  });
});
