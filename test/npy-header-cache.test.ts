import { describe, it, expect, afterEach } from 'vitest';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeNpy, npyHeader } from '../src/formats/npy.js';
import { NdArray } from '../src/heros/values.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('encodeNpy on the hot path', () => {
  it('reuses the header of a (dtype, shape, order) it has seen and never copies the data', async () => {
    const frame = new Uint8Array(Buffer.alloc(480 * 640 * 2, 7));
    const a = encodeNpy(new NdArray('uint16', [480, 640], frame));
    const b = encodeNpy(new NdArray('uint16', [480, 640], frame.slice()));
    expect(b[0]).toBe(a[0]);
    expect(a[1]).toBe(frame);
    expect(npyHeader('uint16', [480, 640])).toBe(a[0]);
    expect(npyHeader('uint16', [480, 641])).not.toBe(a[0]);
    expect(npyHeader('uint16', [480, 640], true)).not.toBe(a[0]);
    // A Fortran-ordered 1-d array is laid out as in C order, so numpy writes the C header.
    expect(npyHeader('uint16', [640], true)).toBe(npyHeader('uint16', [640]));

    dir = await mkdtemp(path.join(tmpdir(), 'npy-'));
    const file = path.join(dir, 'frame.npy');
    const handle = await open(file, 'w');
    try {
      await handle.writev(a);
    } finally {
      await handle.close();
    }
    const written = await readFile(file);
    expect(written.length).toBe(a[0]!.length + frame.length);
    expect(written.subarray(0, 10).toString('latin1')).toBe('\x93NUMPY\x01\x00v\x00');
    expect(Buffer.compare(written.subarray(a[0]!.length), frame)).toBe(0);
  });

  it('keeps answering correctly after the cache has evicted entries', () => {
    const first = npyHeader('uint8', [1]);
    for (let n = 2; n < 2000; n++) npyHeader('uint8', [n]);
    const again = npyHeader('uint8', [1]);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });
});
