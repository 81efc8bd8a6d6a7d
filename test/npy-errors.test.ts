import { describe, it, expect } from 'vitest';
import { encodeNpy, itemSize, npyDescr, npyHeader, splitFirstAxis } from '../src/formats/npy.js';
import { ArchiverError, UnrecoverableError } from '../src/errors.js';
import { NdArray } from '../src/heros/values.js';

function thrown(fn: () => unknown): ArchiverError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiverError);
    return err as ArchiverError;
  }
  throw new Error('expected an error');
}

describe('npy errors carry codes', () => {
  it.each([
    'object',
    'StringDType()',
    'int7',
    'float8',
    '<i3',
    'U',
    '<U-1',
    'datetime64[fortnight]',
    '<i4[ns]',
    "('<i4', (2,))",
    "[('a', 'O')]",
    "[('a', '<i4'), ('a', '<f8')]",
    "[('a', '<i4'",
    "[('a',)]",
    "{'names': ['a', 'b'], 'formats': ['u1', 'u1'], 'offsets': [4, 0], 'itemsize': 8}",
    "{'names': ['a'], 'formats': ['<i4'], 'offsets': [0], 'itemsize': 2}",
    "{'names': ['a'], 'formats': ['<i4'], 'offsets': [0], 'itemsize': 4, 'shape': 1}",
    '',
  ])('refuses dtype %j as ARCHIVER_UNSUPPORTED_DTYPE', (dtype) => {
    const err = thrown(() => npyDescr(dtype));
    expect(err.code).toBe('ARCHIVER_UNSUPPORTED_DTYPE');
    expect(err.retryable).toBe(false);
    expect(thrown(() => encodeNpy(new NdArray(dtype, [1], new Uint8Array(4)))).code).toBe('ARCHIVER_UNSUPPORTED_DTYPE');
  });

  it('refuses a nested struct whose packing the offsets cannot settle', () => {
    // A list nested in a dict that is not aligned: packed (9 bytes) and aligned (16) both fit.
    const dtype = "{'names': ['g'], 'formats': [[('x', 'i1'), ('y', '<f8')]], 'offsets': [0], 'itemsize': 16}";
    expect(thrown(() => itemSize(dtype)).code).toBe('ARCHIVER_UNSUPPORTED_DTYPE');
  });

  it.each([
    ['too short', new NdArray('uint16', [2, 3], new Uint8Array(11))],
    ['too long', new NdArray('uint16', [2, 3], new Uint8Array(13))],
    ['not empty', new NdArray('float64', [0, 3], new Uint8Array(8))],
    ['scalar', new NdArray('<U2', [], new Uint8Array(4))],
  ])('refuses data that does not fit the shape (%s) as ARCHIVER_PAYLOAD_MISMATCH', (_name, arr) => {
    const err = thrown(() => encodeNpy(arr));
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    if (arr.shape.length > 0) expect(thrown(() => splitFirstAxis(arr)).code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });

  it.each([[[-1]], [[1.5]], [[Number.NaN]], [[2 ** 53]]])('refuses shape %j as ARCHIVER_PAYLOAD_MISMATCH', (shape) => {
    expect(thrown(() => npyHeader('uint8', shape)).code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });
});
