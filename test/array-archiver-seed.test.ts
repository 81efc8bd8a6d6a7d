import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NdArray } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

describe('ArrayArchiver with the herostools documentation example', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('writes testimg-0000-0.npy, testimg-0000-1.npy, testimg-0001-0.npy that numpy loads', async () => {
    const t = await tempDir();
    const images = path.join(t.dir, 'images');
    const { boss, publish } = await startBoss(
      {
        _id: 'my-camera-capturer',
        classname: 'herostools.actor.ArrayArchiver',
        arguments: {
          object_selector: 'my-camera',
          event_name: 'acquisition_data',
          default_metadata: { file_path: images },
          save_template: "{{ file_path }}/testimg-{{ '%04d' % ( frame / 2 ) |round(0, 'floor') }}-{{ frame % 2 }}.npy",
        },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    for (let frame = 0; frame < 3; frame++) {
      const data = new Uint8Array(new Uint16Array([frame, frame + 1, frame + 2, 65535]).buffer);
      await publish('my-camera', 'acquisition_data', [new NdArray('uint16', [2, 2], data), { frame }]);
    }
    await until(() => boss.status()[0]?.stats?.stored === 3);
    expect((await readdir(images)).sort()).toEqual(['testimg-0000-0.npy', 'testimg-0000-1.npy', 'testimg-0001-0.npy']);
    const out = runPython(
      `import numpy as np, sys, json
d = sys.argv[1]
print(json.dumps([[str(a.dtype), list(a.shape), a.tolist()] for a in (np.load(f"{d}/testimg-{n}.npy") for n in ["0000-0", "0000-1", "0001-0"])]))`,
      '',
      [images],
    );
    expect(JSON.parse(out.toString())).toEqual([
      ['uint16', [2, 2], [[0, 1], [2, 65535]]],
      ['uint16', [2, 2], [[1, 2], [3, 65535]]],
      ['uint16', [2, 2], [[2, 3], [4, 65535]]],
    ]);
  });
});
