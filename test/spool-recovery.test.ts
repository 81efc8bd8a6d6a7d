import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

const encode = (i: number) => new TextEncoder().encode(`event-${i}`.padEnd(300, ' '));
const decode = (payload: Uint8Array) => Number(new TextDecoder().decode(payload).trim().slice(6));

describe('spool recovery', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('brings back the records not acked, in order, and not those below the ack watermark', async () => {
    const t = await tempDir('ha-spool-');
    const spools: Spool[] = [];
    cleanup = async () => {
      for (const s of spools) await s.close();
      await t.cleanup();
    };
    const first = await Spool.open(t.dir, { segmentBytes: 2048, syncIntervalMs: 1 });
    spools.push(first);
    for (let i = 0; i < 30; i++) await first.append(encode(i));
    const handed = await first.read(30);
    // Records 0..9 acked (the watermark moves to 10); 15 and 20 acked beyond the watermark.
    for (const r of handed.slice(0, 10)) first.ack(r.id);
    first.ack(handed[15]!.id);
    first.ack(handed[20]!.id);
    const lastId = handed[29]!.id;
    await first.close();

    const second = await Spool.open(t.dir, { segmentBytes: 2048, syncIntervalMs: 1 });
    spools.push(second);
    // At least once: acks beyond the watermark are not persisted, so 15 and 20 come back too.
    expect(second.recovered).toEqual({ records: 20, bytes: 20 * 300, corruptBytes: 0, corruptFiles: [] });
    expect(second.stats()).toMatchObject({ records: 20, bytes: 20 * 300 });
    const again = await second.read(100);
    expect(again.map((r) => decode(r.payload))).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
    expect(again.map((r) => r.id)).toEqual(handed.slice(10).map((r) => r.id));

    // New records get new ids and come after the recovered ones.
    const fresh = await second.append(encode(30));
    expect(fresh).toBeGreaterThan(lastId);
    expect((await second.read(10)).map((r) => decode(r.payload))).toEqual([30]);
  });
});
