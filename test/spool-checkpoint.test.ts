import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

const encode = (i: number) => new TextEncoder().encode(`event-${i}`.padEnd(100, ' '));
const decode = (payload: Uint8Array) => Number(new TextDecoder().decode(payload).trim().slice(6));

/** A checkpoint slot as the spool writes it (the format in src/storage/spool.ts). */
function slot(watermark: number): Buffer {
  const b = Buffer.alloc(32);
  b.write('HASPLCKP', 0, 'latin1');
  b.writeUInt32LE(1, 8);
  b.writeBigUInt64LE(BigInt(watermark), 16);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

async function spoolWithAcks(dir: string, acks: number[]): Promise<void> {
  // One ack per commit, so the watermark moves in steps and both slots get written.
  const spool = await Spool.open(dir, { syncIntervalMs: 1 });
  for (let i = 0; i < 30; i++) await spool.append(encode(i));
  const handed = await spool.read(30);
  for (const n of acks) {
    spool.ack(handed[n]!.id);
    await new Promise((r) => setTimeout(r, 15));
  }
  await spool.close();
}

describe('the spool checkpoint', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('is two slots a page apart, overwritten in place; no temporary file or rename per commit', async () => {
    const t = await tempDir('ha-spool-ckpt-');
    cleanup = t.cleanup;
    await spoolWithAcks(t.dir, [0, 1, 2, 3, 4]);
    const b = await readFile(path.join(t.dir, 'checkpoint'));
    expect(b.length).toBe(4096 + 32);
    const watermarks = [b.subarray(0, 32), b.subarray(4096, 4128)].map((s) => (s.subarray(0, 8).toString('latin1') === 'HASPLCKP' ? Number(s.readBigUInt64LE(16)) : -1));
    expect(Math.max(...watermarks)).toBe(5);
    // The two slots hold the last two watermarks written.
    expect(watermarks.every((w) => w >= 0 && w <= 5)).toBe(true);
    const again = await Spool.open(t.dir, {});
    expect((await again.read(100)).map((r) => decode(r.payload))).toEqual(Array.from({ length: 25 }, (_, i) => i + 5));
    await again.close();
  });

  it('a torn newest slot leaves the older one standing: records come back again, none is lost', async () => {
    const t = await tempDir('ha-spool-ckpt-');
    cleanup = t.cleanup;
    await spoolWithAcks(t.dir, [0, 1, 2, 3, 4, 5, 6]);
    const file = path.join(t.dir, 'checkpoint');
    const b = await readFile(file);
    const newest = Number(b.readBigUInt64LE(16)) > Number(b.readBigUInt64LE(4096 + 16)) ? 0 : 4096;
    const older = Number((newest === 0 ? b.subarray(4096) : b).readBigUInt64LE(16));
    b[newest + 20] = b[newest + 20]! ^ 0xff; // the write of the newest slot was torn
    await writeFile(file, b);
    const again = await Spool.open(t.dir, {});
    expect(again.recovered.corruptFiles).toEqual([]);
    const back = (await again.read(100)).map((r) => decode(r.payload));
    expect(back).toEqual(Array.from({ length: 30 - older }, (_, i) => i + older));
    expect(older).toBeLessThan(7);
    await again.close();
  });

  it('reads a one-slot checkpoint (32 bytes, as written before) and keeps it as the older slot', async () => {
    const t = await tempDir('ha-spool-ckpt-');
    cleanup = t.cleanup;
    await spoolWithAcks(t.dir, []);
    await writeFile(path.join(t.dir, 'checkpoint'), slot(12));
    const again = await Spool.open(t.dir, { syncIntervalMs: 1 });
    const handed = await again.read(100);
    expect(handed.map((r) => decode(r.payload))).toEqual(Array.from({ length: 18 }, (_, i) => i + 12));
    again.ack(handed[0]!.id);
    await again.close();
    const b = await readFile(path.join(t.dir, 'checkpoint'));
    expect(Number(b.readBigUInt64LE(16))).toBe(12);
    expect(Number(b.readBigUInt64LE(4096 + 16))).toBe(13);
  });

  it('a checkpoint with no valid slot is moved aside and every record comes back', async () => {
    const t = await tempDir('ha-spool-ckpt-');
    cleanup = t.cleanup;
    await spoolWithAcks(t.dir, [0, 1, 2]);
    await writeFile(path.join(t.dir, 'checkpoint'), Buffer.alloc(4128, 0x55));
    const again = await Spool.open(t.dir, {});
    expect(again.recovered.corruptFiles).toHaveLength(1);
    expect((await again.read(100)).map((r) => decode(r.payload))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await again.close();
  });
});
