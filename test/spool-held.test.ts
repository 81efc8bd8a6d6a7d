import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('spool records held in memory', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('never hands out a record appended with handOut: false, until a restart', async () => {
    const t = await tempDir('ha-spool-');
    let spool = await Spool.open(t.dir);
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    await spool.append(bytes('a'));
    const held = await spool.append(bytes('b'), { handOut: false });
    await spool.append(bytes('c'));
    expect((await spool.read(10)).map((r) => text(r.payload))).toEqual(['a', 'c']);
    expect(spool.stats().records).toBe(3);

    // The caller crashed before storing "b": after the restart it is an ordinary record again.
    await spool.close();
    spool = await Spool.open(t.dir);
    expect((await spool.read(10)).map((r) => text(r.payload))).toEqual(['a', 'b', 'c']);
    spool.ack(held);
    expect(spool.stats().records).toBe(2);
  });
});
