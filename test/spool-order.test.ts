import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolRecordId } from '../src/storage/spool.js';
import { tempDir, until } from './helpers/harness.js';

/** 100-byte payloads that say which append they came from. */
function record(i: number): Uint8Array {
  return new TextEncoder().encode(`record ${String(i).padStart(4, '0')} `.padEnd(100, '.'));
}
const indexOf = (payload: Uint8Array) => Number(new TextDecoder().decode(payload).slice(7, 11));
const segmentFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();

describe('spool order', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('hands records out in append order across segments, deletes fully acked segments, counts what is left', async () => {
    const t = await tempDir('ha-spool-');
    // 1 KiB segments hold 9 records of 108 bytes (8-byte header + 100) after the 32-byte file header.
    const spool = await Spool.open(t.dir, { segmentBytes: 1024, syncIntervalMs: 1 });
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };

    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append(record(i))));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(50);
    expect(await segmentFiles(t.dir)).toHaveLength(6);
    expect(spool.stats()).toMatchObject({ records: 50, bytes: 5000, segments: 6 });

    const first = await spool.read(20);
    const rest = await spool.read(100);
    expect(await spool.read(100)).toEqual([]);
    const all = [...first, ...rest];
    expect(all.map((r) => indexOf(r.payload))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(all.map((r) => r.id)).toEqual(ids);

    // Out of order: the first three segments backwards, then the fifth (records 36..44) alone.
    const byIndex = (i: number): SpoolRecordId => all[i]!.id;
    for (let i = 26; i >= 0; i--) spool.ack(byIndex(i));
    for (let i = 36; i <= 44; i++) spool.ack(byIndex(i));
    spool.ack(byIndex(3)); // a second ack changes nothing
    expect(spool.stats()).toMatchObject({ records: 14, bytes: 1400, segments: 2 });
    await until(async () => (await segmentFiles(t.dir)).length === 2, 5_000, 'acked segments deleted');
    expect(await segmentFiles(t.dir)).toEqual(['0000000000000004.seg', '0000000000000006.seg']);

    for (let i = 27; i < 50; i++) spool.ack(byIndex(i));
    expect(spool.stats()).toMatchObject({ records: 0, bytes: 0, segments: 0 });
    await spool.close();
    // Closing deletes the active segment too once it is all acked; the checkpoint stays.
    expect(await readdir(t.dir)).toEqual(['checkpoint']);
  });
});
