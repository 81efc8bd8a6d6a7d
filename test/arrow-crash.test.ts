import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runChildScript } from './helpers/child-script.js';
import { tempDir } from './helpers/harness.js';
import { repoRoot, runPython } from './helpers/python.js';

const DAEMON = path.join(repoRoot, 'test/fixtures/arrow-crash-daemon.ts');

const run = (args: string[], onLine: (line: string, kill: () => void) => void) => runChildScript(DAEMON, args, onLine);

/** Every file as pyarrow reads it: .arrow with open_file, .arrows with open_stream up to the last complete batch. */
const READ_ALL = `
import json, sys, glob, pyarrow as pa, pyarrow.ipc as ipc
out = {}
for f in sorted(glob.glob(sys.argv[1] + '/*.arrow*')):
    ns = []
    if f.endswith('.arrow'):
        t = ipc.open_file(f).read_all()
        ns = t.column('n').to_pylist()
        assert t.column('_key').to_pylist() == [str(n) for n in ns]
    else:
        r = ipc.open_stream(f)
        while True:
            try:
                b = r.read_next_batch()
            except StopIteration:
                break
            except Exception:
                break  # a torn last batch: what came before is complete
            ns += b.column(b.schema.get_field_index('n')).to_pylist()
    out[f.rsplit('/', 1)[1]] = ns
json.dump(out, sys.stdout)
`;

describe('ArrowArchiver: kill -9 during writing, then restart', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('leaves only readable files, loses no accepted row and writes none twice (unique_key)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const n = 3000;
    const out = path.join(t.dir, 'out');
    let accepted: { received: number; stored: number } | undefined;
    let atKill: Record<string, number[]> = {};
    const first = await run([t.dir, 'publish', String(n)], (line, kill) => {
      if (line.startsWith('accepted ')) {
        accepted = JSON.parse(line.slice(9));
        kill();
      }
    });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(accepted?.received).toBe(n);
    expect(accepted!.stored).toBeLessThan(n); // the kill came while rows were being written

    // What the kill left is readable as it is: finished files and the stream being written.
    atKill = JSON.parse(runPython(READ_ALL, '', [out]).toString());
    const names = Object.keys(atKill);
    expect(names.length).toBeGreaterThan(0);

    let recovered: { stored: number; deadLettered: number; refused: number } | undefined;
    const second = await run([t.dir, 'recover'], (line) => {
      if (line.startsWith('idle ')) recovered = JSON.parse(line.slice(5));
    });
    expect(second.code, second.stderr).toBe(0);
    expect(recovered).toMatchObject({ deadLettered: 0, refused: 0 });
    expect((await readdir(out)).filter((f) => f.endsWith('.arrows') || f.endsWith('.tmp'))).toEqual([]);

    const after = JSON.parse(runPython(READ_ALL, '', [out]).toString()) as Record<string, number[]>;
    const all = Object.values(after).flat().sort((a, b) => a - b);
    expect(all.length).toBe(n); // none lost, none twice
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    process.stdout.write(
      `arrow-crash: ${n} accepted, ${accepted!.stored} stored before kill -9 (${Object.values(atKill).flat().length} rows on disk in ${names.length} files), ${recovered!.stored} stored after restart\n`,
    );
  }, 60_000);
});
