import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { NdArray } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

describe('ArrayArchiver with split_data_array', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('writes one file per first-axis sub-array with _split_index, and dead-letters a 0-d array', async () => {
    const t = await tempDir();
    const { boss, publish, deadLetterDir } = await startBoss(
      {
        _id: 'stack',
        classname: 'ArrayArchiver',
        arguments: { object_selector: '*', event_name: 'stack', split_data_array: true, save_template: `${t.dir}/out/{{ run }}_{{ '%02d' % _split_index }}` },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const f32 = new Float32Array(3 * 2 * 2).map((_, i) => i * 0.5);
    await publish('cam', 'stack', [new NdArray('float32', [3, 2, 2], new Uint8Array(f32.buffer)), { run: 'r7' }]);
    await publish('cam', 'stack', [new NdArray('float64', [], new Uint8Array(new Float64Array([1.5]).buffer)), { run: 'zero' }]);
    await until(() => boss.status()[0]?.stats?.stored === 1 && boss.status()[0]?.stats?.deadLettered === 1);
    expect((await readdir(path.join(t.dir, 'out'))).sort()).toEqual(['r7_00.npy', 'r7_01.npy', 'r7_02.npy']);
    // Byte-identical to numpy.save of each sub-array.
    const expected = runPython(
      `import numpy as np, io, sys, base64, json
a = np.arange(12, dtype=np.float32).reshape(3, 2, 2) * np.float32(0.5)
out = []
for row in a:
    b = io.BytesIO(); np.save(b, row); out.append(base64.b64encode(b.getvalue()).decode())
print(json.dumps(out))`,
    );
    const files = await Promise.all([0, 1, 2].map((i) => readFile(path.join(t.dir, 'out', `r7_0${i}.npy`))));
    expect(files.map((f) => f.toString('base64'))).toEqual(JSON.parse(expected.toString()));
    const [entry] = await new DeadLetterStore(deadLetterDir).list('stack');
    expect(entry?.record.code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });
});
