import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';

// A disk that fills up on demand: while `full` is set, every write first writes half of its
// first buffer (as a real write that runs out of space mid-way does), then fails with ENOSPC.
const disk = vi.hoisted(() => ({ full: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof real.open>): Promise<FileHandle> => {
    const fh = await real.open(...args);
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'writev' && disk.full) {
          return async (buffers: NodeJS.ArrayBufferView[], position: number) => {
            const first = buffers[0]!;
            await target.write(new Uint8Array(first.buffer, first.byteOffset, first.byteLength >> 1), 0, first.byteLength >> 1, position);
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

describe('spool on a full disk', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('refuses with ARCHIVER_SPOOL_FULL (errno as cause) and works again once space is freed', async () => {
    const t = await tempDir('ha-spool-');
    let spool = await Spool.open(t.dir, { segmentBytes: 4096, syncIntervalMs: 1 });
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    const payload = (i: number) => new Uint8Array(300).fill(i);
    for (let i = 0; i < 5; i++) await spool.append(payload(i));

    disk.full = true;
    const refused = await Promise.allSettled([spool.append(payload(5)), spool.append(payload(6))]);
    for (const r of refused) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as { code: string; cause: { code: string } };
      expect(err.code).toBe('ARCHIVER_SPOOL_FULL');
      expect(err.cause.code).toBe('ENOSPC');
    }

    disk.full = false;
    for (let i = 7; i < 10; i++) await spool.append(payload(i));
    const firsts = (await spool.read(100)).map((r) => r.payload[0]);
    expect(firsts).toEqual([0, 1, 2, 3, 4, 7, 8, 9]);

    // The half-written record was cut off: nothing reads as corrupt after a restart.
    await spool.close();
    spool = await Spool.open(t.dir);
    expect(spool.recovered).toMatchObject({ records: 8, corruptBytes: 0 });
    expect((await spool.read(100)).map((r) => r.payload[0])).toEqual(firsts);
  });
});
