import { readdir, readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC, Type } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

/** Column name → Arrow type text and the rows (without source, received_at) of one file. */
async function readBack(file: string): Promise<{ types: Record<string, string>; rows: Record<string, unknown>[] }> {
  const t = tableFromIPC(await readFile(file));
  const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
  const names = t.schema.fields.map((f) => f.name).filter((n) => n !== 'source' && n !== 'received_at');
  const rows = t.toArray().map((r) => Object.fromEntries(names.map((n) => [n, typeof r[n] === 'bigint' ? Number(r[n]) : r[n]])));
  return { types, rows };
}

describe('ArrowArchiver schema after a restart', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  async function run(t: { dir: string }, out: string, extra: Record<string, unknown>, events: Record<string, unknown>[], stored: number, dl: number): Promise<void> {
    const { boss, publish } = await startBoss(
      { _id: 'tab', classname: 'ArrowArchiver', arguments: { object_selector: '*', event_name: 'e', batch_ms: 1, save_template: `${out}/data.arrow`, ...extra } },
      { baseDir: t.dir },
    );
    try {
      for (const e of events) await publish('dev', 'e', [e as never, { unit: 'K' }]);
      await until(() => boss.status()[0]?.stats?.stored === stored && boss.status()[0]?.stats?.deadLettered === dl, 10_000, `${stored} stored, ${dl} dead-lettered`);
    } finally {
      await boss.stop();
    }
  }

  it('continues with the widened schema of the newest file (int → float, an added column)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = path.join(t.dir, 'archive');
    // a: int64 → float64; then c is added.
    await run(t, out, { schema_evolution: 'widen' }, [{ a: 1, b: 'x' }, { a: 2.5, b: 'y' }, { a: 3, b: 'z', c: true }], 3, 0);
    expect((await readdir(out)).sort()).toEqual(['data.1.arrow', 'data.2.arrow', 'data.arrow']);
    expect((await readBack(path.join(out, 'data.2.arrow'))).types).toEqual({ source: 'Utf8', received_at: 'Timestamp<MILLISECOND, UTC>', a: 'Float64', b: 'Utf8', c: 'Bool' });

    // The files of one change are written side by side: the file with the older columns may be
    // the last written. The latest columns win all the same (schema_since in each file).
    const later = new Date(Date.now() + 5_000);
    await utimes(path.join(out, 'data.1.arrow'), later, later);
    // Restarted with reject. Had the first event decided (a: int64, b: utf8, no c), the second
    // would be dead-lettered; the widened schema holds both. The third fits no schema.
    await run(t, out, { schema_evolution: 'reject' }, [{ a: 4, b: 'w' }, { a: 5.5, b: 'v', c: false }, { a: 'text', b: 'u' }], 2, 1);
    const codes = (await new DeadLetterStore(path.join(t.dir, 'dead-letter')).list('tab')).map((e) => e.record.code);
    expect(codes).toEqual(['ARCHIVER_SCHEMA_MISMATCH']);
    expect((await readdir(out)).sort()).toEqual(['data.1.arrow', 'data.2.arrow', 'data.3.arrow', 'data.arrow']);
    const got = await readBack(path.join(out, 'data.3.arrow'));
    expect(got.types).toEqual({ source: 'Utf8', received_at: 'Timestamp<MILLISECOND, UTC>', a: 'Float64', b: 'Utf8', c: 'Bool' });
    expect(got.rows).toEqual([
      { a: 4, b: 'w', c: null },
      { a: 5.5, b: 'v', c: false },
    ]);

    // A declared schema wins over the files.
    await run(t, out, { schema: { a: 'int64', b: 'utf8' } }, [{ a: 6, b: 's' }], 1, 0);
    const declared = await readBack(path.join(out, 'data.4.arrow'));
    expect(declared.types).toEqual({ source: 'Utf8', received_at: 'Timestamp<MILLISECOND, UTC>', a: 'Int64', b: 'Utf8' });
    expect(declared.rows).toEqual([{ a: 6, b: 's' }]);
  });

  it('keeps metadata columns first and _key last, and maps every column kind back', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = path.join(t.dir, 'archive');
    const schema = { id: 'int64', v: 'float32', u: 'uint16', flag: 'bool', raw: 'binary', nothing: 'null', vec: 'int8[3]', small: 'int8' };
    const common = { metadata_columns: ['unit'], unique_key: '{{ id }}' };
    // The declared schema of the first run is only in the file when the second run starts.
    await run(t, out, { ...common, schema: { unit: 'utf8', ...schema } }, [{ id: 1, v: 1.5, u: 7 }], 1, 0);
    await run(t, out, { ...common, schema_evolution: 'reject' }, [{ id: 2, v: 2, u: 65535, small: -3 }, { id: 3, u: 65536 }, { id: 1, v: 9 }], 2, 1); // id 1: a duplicate (stored)
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['data.1.arrow', 'data.arrow']);
    const first = tableFromIPC(await readFile(path.join(out, 'data.arrow')));
    const second = tableFromIPC(await readFile(path.join(out, 'data.1.arrow')));
    const shape = (s: typeof first.schema): [string, string][] => s.fields.map((f) => [f.name, String(f.type)]);
    expect(shape(second.schema)).toEqual(shape(first.schema));
    expect(second.schema.fields.map((f) => f.name)).toEqual(['source', 'received_at', 'unit', 'id', 'v', 'u', 'flag', 'raw', 'nothing', 'vec', 'small', '_key']);
    expect(second.schema.fields.find((f) => f.name === 'vec')!.type.typeId).toBe(Type.FixedSizeList);
    expect(second.numRows).toBe(1);
    expect(second.get(0)!.toJSON()).toMatchObject({ unit: 'K', id: 2n, v: 2, u: 65535, small: -3, _key: '2' });
  });
});
