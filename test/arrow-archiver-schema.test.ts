import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { pyFloat } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

const SCHEMAS = `
import json, sys, glob, pyarrow.ipc as ipc
out = {}
for f in sorted(glob.glob(sys.argv[1] + '/*.arrow')):
    t = ipc.open_file(f).read_all()
    out[f.rsplit('/', 1)[1]] = {'schema': {x.name: str(x.type) for x in t.schema if x.name not in ('source', 'received_at')}, 'rows': t.drop_columns(['source', 'received_at']).to_pylist()}
json.dump(out, sys.stdout)
`;

describe('ArrowArchiver schema', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  async function run(t: { dir: string }, extra: Record<string, unknown>, events: Record<string, unknown>[], stored: number, dl: number): Promise<string> {
    const out = path.join(t.dir, 'archive');
    const { boss, publish } = await startBoss(
      { _id: 'tab', classname: 'ArrowArchiver', arguments: { object_selector: '*', event_name: 'e', batch_ms: 1, save_template: `${out}/data.arrow`, ...extra } },
      { baseDir: t.dir },
    );
    try {
      for (const e of events) await publish('dev', 'e', [e as never, {}]);
      await until(() => boss.status()[0]?.stats?.stored === stored && boss.status()[0]?.stats?.deadLettered === dl, 10_000, 'settled');
    } finally {
      await boss.stop();
    }
    return out;
  }

  it('dead-letters an event that does not fit the inferred schema (ARCHIVER_SCHEMA_MISMATCH)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await run(t, {}, [{ a: 1, b: 'x' }, { a: 'text', b: 'y' }, { a: 2, b: 'z', c: true }, { a: 3 }, [1, 2] as never], 2, 3);
    const codes = (await new DeadLetterStore(path.join(t.dir, 'dead-letter')).list('tab')).map((e) => e.record.code);
    expect(codes.sort()).toEqual(['ARCHIVER_PAYLOAD_MISMATCH', 'ARCHIVER_SCHEMA_MISMATCH', 'ARCHIVER_SCHEMA_MISMATCH']);
  });

  it('with a declared schema, checks every event against it', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = await run(t, { schema: { a: 'int32', b: 'float64', v: 'float32[2]' } }, [{ a: 1, b: 2 }, { a: 2 ** 40, b: 1 }, { a: 3, b: pyFloat(4) }], 2, 1);
    const got = JSON.parse(runPython(SCHEMAS, '', [out]).toString());
    expect(got['data.arrow']).toEqual({ schema: { a: 'int32', b: 'double', v: 'fixed_size_list<item: float not null>[2]' }, rows: [{ a: 1, b: 2, v: null }, { a: 3, b: 4, v: null }] });
  });

  it('with schema_evolution "widen", starts a new file with the widened schema', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = await run(t, { schema_evolution: 'widen' }, [{ a: 1, n: null }, { a: 2.5, n: null }, { a: 3, n: 'now text', extra: true }, { a: 'no', n: null }], 3, 1);
    expect((await readdir(out)).sort()).toEqual(['data.1.arrow', 'data.2.arrow', 'data.arrow']);
    const got = JSON.parse(runPython(SCHEMAS, '', [out]).toString());
    expect(got['data.arrow']).toEqual({ schema: { a: 'int64', n: 'null' }, rows: [{ a: 1, n: null }] });
    expect(got['data.1.arrow']).toEqual({ schema: { a: 'double', n: 'null' }, rows: [{ a: 2.5, n: null }] });
    expect(got['data.2.arrow']).toEqual({ schema: { a: 'double', n: 'string', extra: 'bool' }, rows: [{ a: 3, n: 'now text', extra: true }] });
  });
});
