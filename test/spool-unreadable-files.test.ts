import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

async function spoolWith(dir: string, count: number, acked: number): Promise<void> {
  const spool = await Spool.open(dir, { syncIntervalMs: 1 });
  for (let i = 0; i < count; i++) await spool.append(new Uint8Array(50).fill(i));
  for (const r of (await spool.read(acked))) spool.ack(r.id);
  await spool.close();
}

describe('spool files it cannot read', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('moves an unreadable checkpoint or segment header aside and hands every record out again', async () => {
    const t = await tempDir('ha-spool-');
    cleanup = () => t.cleanup();
    await spoolWith(t.dir, 10, 4);
    await writeFile(path.join(t.dir, 'checkpoint'), 'not a checkpoint');
    await writeFile(path.join(t.dir, '0000000000000007.seg'), 'HASPLSEG\x01');

    const spool = await Spool.open(t.dir);
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    // Without a watermark nothing counts as acked: at least once, never lost.
    expect((await spool.read(100)).map((r) => r.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(spool.recovered.corruptBytes).toBe('not a checkpoint'.length + 'HASPLSEG\x01'.length);
    expect(spool.recovered.corruptFiles.map((f) => path.basename(f).replace(/corrupt-.*/, 'corrupt-'))).toEqual([
      'checkpoint.corrupt-',
      '0000000000000007.seg.corrupt-',
    ]);
    expect((await readdir(t.dir)).filter((n) => n.includes('.corrupt-'))).toHaveLength(2);
  });

  it('refuses a segment of an unknown format version with ARCHIVER_SPOOL_CORRUPT and leaves it alone', async () => {
    const t = await tempDir('ha-spool-');
    cleanup = () => t.cleanup();
    await spoolWith(t.dir, 3, 0);
    const [name] = (await readdir(t.dir)).filter((n) => n.endsWith('.seg'));
    const file = path.join(t.dir, name!);
    const bytes = await readFile(file);
    bytes.writeUInt32LE(2, 8);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 28)), 28);
    await writeFile(file, bytes);

    await expect(Spool.open(t.dir)).rejects.toMatchObject({ code: 'ARCHIVER_SPOOL_CORRUPT', path: file });
    expect(await readFile(file)).toEqual(bytes);
  });
});
