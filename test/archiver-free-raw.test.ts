import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataArchiver } from '../src/archiver.js';
import { decodeHeros, encodeHeros } from '../src/heros/cbor.js';
import { NdArray } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

function frame(seq: number): Uint8Array {
  const data = new Uint8Array(256 * 1024);
  data.fill(seq & 0xff);
  return encodeHeros([new NdArray('uint8', [512, 512], data), { seq }]);
}

describe('the bytes of a stored event', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it.each(['spool', 'memory'])('are released at once when the bus says they are ours alone (durability %s), and the file is right', async (durability) => {
    const t = await tempDir();
    const { boss } = await startBoss(
      { _id: 'cam', classname: 'ArrayArchiver', arguments: { object_selector: 'cam', event_name: 'frame', durability, save_template: `${t.dir}/{{ seq }}` } },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const actor = boss.actor('cam') as DataArchiver;
    const owned = Array.from({ length: 20 }, (_, i) => frame(i));
    const shared = frame(99);
    for (let i = 0; i < owned.length; i++) actor.feed('cam', decodeHeros(owned[i]!), { raw: owned[i]!, owned: true, key: '@object/heros/cam/frame', receivedAt: Date.now() });
    actor.feed('cam', decodeHeros(shared), { raw: shared, key: '@object/heros/cam/frame', receivedAt: Date.now() });
    await until(() => boss.status()[0]?.stats?.stored === 21 && boss.status()[0]?.stats?.durable === (durability === 'spool' ? 21 : 0), 20_000, 'all stored');
    // Released (detached) once stored — and, in spool mode, once its spool record was written.
    await until(() => owned.every((b) => (b.buffer as ArrayBuffer & { detached: boolean }).detached), 5_000, 'owned buffers released');
    expect((shared.buffer as ArrayBuffer & { detached: boolean }).detached).toBe(false);
    for (const seq of [0, 7, 19, 99]) {
      const npy = await readFile(path.join(t.dir, `${seq}.npy`));
      expect(npy.length).toBe(128 + 256 * 1024);
      expect(npy.subarray(128).every((b) => b === (seq & 0xff))).toBe(true);
    }
  });
});
