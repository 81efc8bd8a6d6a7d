import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonArchiver } from '../actors/json-archiver.js';
import { NdArray } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('FileArchiver with several stores at once', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('defaults to 8 stores at once, and the last event of a name is what the file holds', async () => {
    const t = await tempDir();
    const { boss, publish } = await startBoss(
      {
        _id: 'log',
        classname: 'JsonArchiver',
        // 5 names, 400 events: each name is rewritten 80 times while other names are written.
        arguments: { object_selector: 'sensor', event_name: 'reading', save_template: "{{ '%d' % (seq % 5) }}.json", indent: 0 },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    expect(JsonArchiver.optionsSchema.concurrency?.default).toBe(8);
    // Earlier events are larger (slower to write): without per-name order an earlier write
    // would finish last and be left under the name.
    for (let seq = 0; seq < 400; seq++) await publish('sensor', 'reading', [{ seq, pad: 'x'.repeat((400 - seq) * 2000) }, { seq }]);
    await until(() => boss.status()[0]?.stats?.stored === 400, 30_000);
    const names = (await readdir(t.dir)).filter((n) => n.endsWith('.json')).sort();
    expect(names).toEqual(['0.json', '1.json', '2.json', '3.json', '4.json']);
    for (let r = 0; r < 5; r++) {
      expect(JSON.parse(await readFile(path.join(t.dir, `${r}.json`), 'utf8'))).toMatchObject({ seq: 395 + r });
    }
    // No temporary file is left behind (the folder is busy enough for spare files, empty and
    // hidden, which go when the archiver stops).
    expect((await readdir(t.dir)).filter((n) => n.startsWith('.') && !n.startsWith('.heros-archiver-spare.'))).toEqual([]);
    await boss.stop();
    expect((await readdir(t.dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('split_data_array writes the sub-files side by side, each with its own rows', async () => {
    const t = await tempDir();
    const { boss, publish } = await startBoss(
      {
        _id: 'stack',
        classname: 'ArrayArchiver',
        arguments: { object_selector: 'cam', event_name: 'frames', split_data_array: true, save_template: '{{ seq }}/{{ _split_index }}' },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    for (let seq = 0; seq < 20; seq++) {
      const data = new Uint8Array(16 * 4 * 2);
      for (let i = 0; i < 16 * 4; i++) new DataView(data.buffer).setUint16(i * 2, seq * 1000 + i, true);
      await publish('cam', 'frames', [new NdArray('uint16', [16, 4], data), { seq }]);
    }
    await until(() => boss.status()[0]?.stats?.stored === 20);
    for (let seq = 0; seq < 20; seq++) {
      for (let k = 0; k < 16; k++) {
        const npy = await readFile(path.join(t.dir, String(seq), `${k}.npy`));
        const body = npy.subarray(npy.length - 8);
        const got = Array.from({ length: 4 }, (_, i) => body.readUInt16LE(i * 2));
        expect(got).toEqual([0, 1, 2, 3].map((i) => seq * 1000 + k * 4 + i));
      }
    }
  });
});
