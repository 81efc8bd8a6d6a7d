import { describe, expect, it } from 'vitest';
import { ArchiverError, UnrecoverableError } from '../src/errors.js';
import { ndarrayToPy } from '../src/formats/ndarray-values.js';
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

describe('ndarrayToPy refuses what it cannot read faithfully', () => {
  it.each(['object', 'float128', 'datetime64[ns]', '<M8[ns]', '|V8', '<i3', '<f16', '|i4', '|U2', 'StringDType()', ''])(
    'dtype %j is ARCHIVER_UNSUPPORTED_DTYPE',
    (dtype) => {
      expect(thrown(() => ndarrayToPy(new NdArray(dtype, [1], new Uint8Array(16)))).code).toBe('ARCHIVER_UNSUPPORTED_DTYPE');
    },
  );

  it.each([
    ['too few bytes', new NdArray('int32', [2, 2], new Uint8Array(12))],
    ['too many bytes', new NdArray('int16', [3], new Uint8Array(8))],
    ['a negative dimension', new NdArray('uint8', [-1], new Uint8Array(0))],
    ['a fractional dimension', new NdArray('uint8', [1.5], new Uint8Array(1))],
    ['a unicode value beyond U+10FFFF', new NdArray('<U1', [1], new Uint8Array([0, 0, 0x11, 0]))],
  ])('%s is ARCHIVER_PAYLOAD_MISMATCH', (_name, arr) => {
    const err = thrown(() => ndarrayToPy(arr));
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });
});
