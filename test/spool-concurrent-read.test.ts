import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

// Slow reads: while one read waits, the writer gets to add records to the segment being read
// and to roll over to the next one, the interleaving that must not make records be skipped.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof real.open>): Promise<FileHandle> => {
    const fh = await real.open(...args);
    return new Proxy(fh, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'read') {
          return async (...a: unknown[]) => {
            await new Promise((r) => setTimeout(r, 3));
            return (value as (...b: unknown[]) => Promise<unknown>).apply(target, a);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

describe('spool read while appending', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('hands every record out exactly once, in order, while the writer fills and rolls segments', async () => {
    const t = await tempDir('ha-spool-');
    const spool = await Spool.open(t.dir, { segmentBytes: 16 * 1024, syncIntervalMs: 1 });
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    const total = 600;
    const seen: number[] = [];
    let producing = true;
    const consumer = (async () => {
      for (;;) {
        const done = !producing;
        const batch = await spool.read(1000);
        // Every append has resolved, so everything is written: an empty read means the end.
        if (batch.length === 0 && done) break;
        if (batch.length === 0) await new Promise((r) => setTimeout(r, 0));
        for (const r of batch) {
          seen.push(new DataView(r.payload.buffer, r.payload.byteOffset).getUint32(0, true));
          spool.ack(r.id);
        }
      }
    })();
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const payload = new Uint8Array(1000);
      new DataView(payload.buffer).setUint32(0, i, true);
      appends.push(spool.append(payload));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(appends);
    producing = false;
    await consumer;
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(spool.stats().records).toBe(0);
  });
});
