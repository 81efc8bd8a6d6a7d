import { describe, expect, it } from 'vitest';
import { ndarrayToPy } from '../src/formats/ndarray-values.js';
import { NdArray, PyFloat } from '../src/heros/values.js';

function bytesOf(write: (view: DataView) => void, size: number): Uint8Array {
  const data = new Uint8Array(size);
  write(new DataView(data.buffer));
  return data;
}

describe('ndarrayToPy gives values of the value model', () => {
  it('keeps 64-bit ints exact: number while safe, bigint beyond', () => {
    const data = bytesOf((v) => {
      v.setBigInt64(0, 2n ** 53n - 1n, true);
      v.setBigInt64(8, 2n ** 53n, true);
      v.setBigInt64(16, -(2n ** 63n), true);
    }, 24);
    expect(ndarrayToPy(new NdArray('int64', [3], data))).toEqual([2 ** 53 - 1, 2n ** 53n, -(2n ** 63n)]);
    const u = bytesOf((v) => v.setBigUint64(0, 2n ** 64n - 1n, false), 8);
    expect(ndarrayToPy(new NdArray('>u8', [], u))).toBe(2n ** 64n - 1n);
  });

  it('marks whole floats as PyFloat and leaves the others plain numbers', () => {
    const data = bytesOf((v) => {
      v.setFloat64(0, 2, true);
      v.setFloat64(8, 0.5, true);
    }, 16);
    const [whole, half] = ndarrayToPy(new NdArray('float64', [2], data)) as [unknown, unknown];
    expect(whole).toBeInstanceOf(PyFloat);
    expect((whole as PyFloat).value).toBe(2);
    expect(half).toBe(0.5);
  });

  it('gives bytes elements as copies without trailing NULs', () => {
    const data = new Uint8Array([97, 0, 98, 99, 0, 0]);
    const out = ndarrayToPy(new NdArray('|S3', [2], data)) as Uint8Array[];
    expect(out.map((b) => Array.from(b))).toEqual([[97, 0, 98], [99]]);
    data[0] = 120;
    expect(out[0]?.[0]).toBe(97);
  });

  it('gives a 0-d array as its element and complex as [re, im]', () => {
    const data = bytesOf((v) => {
      v.setFloat32(0, 1.5, true);
      v.setFloat32(4, -0.25, true);
    }, 8);
    expect(ndarrayToPy(new NdArray('complex64', [], data))).toEqual([1.5, -0.25]);
  });
});
