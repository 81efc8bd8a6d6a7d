import { describe, expect, it } from 'vitest';
import { ndarrayToPy } from '../../src/formats/ndarray-values.js';
import { pyJsonDumps } from '../../src/formats/python-json.js';
import { NdArray } from '../../src/heros/values.js';
import { runPython } from '../helpers/python.js';

/**
 * Each array travels as numpy's `str(dtype)`, shape, memory order and raw bytes; the expected
 * text is `json.dumps(a.tolist(), indent=4)`. Python's json cannot write the complex and bytes
 * elements `tolist()` gives, so for those the expectation applies the documented stand-ins
 * (`[re, im]`, `{"$bytes": base64}`) on the Python side.
 */
const ARRAYS_SCRIPT = String.raw`
import base64, json, sys
import numpy as np

rng = np.random.default_rng(7)

def stand_in(v):
    if isinstance(v, list): return [stand_in(x) for x in v]
    if isinstance(v, complex): return [v.real, v.imag]
    if isinstance(v, bytes): return {'$bytes': base64.b64encode(v).decode('ascii')}
    return v

def ints(dtype):
    info = np.iinfo(dtype)
    vals = [info.min, info.max, 0, 1, -1 if info.min < 0 else 2, info.max // 3]
    if info.bits == 64:
        vals += [2**53 + 1, 2**53, 2**53 - 1] + ([-(2**53) - 1, -(2**53)] if info.min < 0 else [2**63])
    vals += list(rng.integers(info.min, info.max, size=6, dtype=dtype, endpoint=True))
    return np.array(vals, dtype=dtype)

special = [0.0, -0.0, 1.0, 0.1, 1 / 3, 1e-05, 1e16, 5e-324, 1.7976931348623157e308, np.nan, np.inf, -np.inf, 65504.0, 6e-08, 1e-45, 3.4028235e38]

def floats(dtype):
    with np.errstate(over='ignore', under='ignore'):
        vals = np.array(special, dtype=np.float64).astype(dtype)
    return np.concatenate([vals, rng.standard_normal(12).astype(dtype) * np.array(10.0, dtype) ** rng.integers(-8, 8, 12).astype(dtype)])

def complexes(dtype):
    re = floats(np.float64)[:14]
    im = floats(np.float64)[2:16][::-1]
    with np.errstate(over='ignore', under='ignore'):
        return (re + 1j * im).astype(dtype)

arrays = []
def add(name, a, fortran=False):
    arrays.append((name, a, fortran))

add('bool', np.array([[True, False, True], [False, False, True]]))
for t in ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']:
    add(t, ints(t))
    add('>' + t, ints(t).astype(np.dtype(t).newbyteorder('>')))
for t in ['float16', 'float32', 'float64']:
    add(t, floats(t))
    add('>' + t, floats(t).astype(np.dtype(t).newbyteorder('>')))
for t in ['complex64', 'complex128']:
    add(t, complexes(t))
    add('>' + t, complexes(t).astype(np.dtype(t).newbyteorder('>')))
words = ['', 'a', 'caf\u00e9', '\U0001F600x', 'a\x00b', 'ab', '\u4e2d\u6587', '\x7f"\\']
add('<U5', np.array(words, dtype='<U5'))
add('>U3', np.array(words, dtype='>U3'))
add('<U1 2-d', np.array([['x', '\U0010FFFF'], ['', '\n']], dtype='<U1'))
add('|S3', np.array([b'', b'a', b'ab\x00', b'a\x00b', b'\xff\x00\x01', b'xyz'], dtype='|S3'))
add('0-d float64', np.array(3.5))
add('0-d whole float', np.array(2.0))
add('0-d >i4', np.array(7, dtype='>i4'))
add('0-d uint64', np.array(2**64 - 1, dtype='uint64'))
add('0-d bool', np.array(True))
add('0-d unicode', np.array('h\u00e9llo'))
add('0-d complex', np.array(1 + 2j))
add('3-d float64', np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 4)
add('3-d int32', np.arange(-12, 12, dtype=np.int32).reshape(4, 3, 2))
add('F-order 3-d int16', np.asfortranarray(np.arange(24, dtype='<i2').reshape(2, 3, 4)), True)
add('F-order 2-d >f4', np.asfortranarray((np.arange(6) / 3).astype('>f4').reshape(2, 3)), True)
add('F-order 2-d <U2', np.asfortranarray(np.array([['a', 'bc', 'd'], ['\u00e9', '', 'fg']])), True)
add('F-order 2-d complex128', np.asfortranarray(complexes('complex128')[:6].reshape(3, 2)), True)
add('F-order 1-d', np.arange(5, dtype='uint8'), True)
add('empty 1-d', np.zeros((0,), dtype=np.float64))
add('empty 3-d', np.zeros((2, 0, 3), dtype=np.int64))
add('empty unicode', np.zeros((0, 2), dtype='<U3'))
add('4-d bool', rng.integers(0, 2, size=(2, 2, 3, 2)).astype(bool))

out = []
for name, a, fortran in arrays:
    out.append({'name': name, 'dtype': str(a.dtype), 'shape': list(a.shape), 'fortran': fortran,
                'data': base64.b64encode(a.tobytes(order='F' if fortran else 'C')).decode('ascii'),
                'expected': json.dumps(stand_in(a.tolist()), indent=4)})
sys.stdout.write(json.dumps(out))
`;

interface ArrayCase {
  name: string;
  dtype: string;
  shape: number[];
  fortran: boolean;
  data: string;
  expected: string;
}

const cases = (JSON.parse(runPython(ARRAYS_SCRIPT).toString('utf8')) as ArrayCase[]).map((c) => ({
  ...c,
  label: `${c.name} (${c.dtype} [${c.shape.join(', ')}]${c.fortran ? ' F' : ''})`,
  array: new NdArray(c.dtype, c.shape, new Uint8Array(Buffer.from(c.data, 'base64')), c.fortran),
}));

describe('ndarrayToPy matches numpy tolist() once written as JSON', () => {
  it.each(cases)('$label', (c) => {
    expect(pyJsonDumps(ndarrayToPy(c.array))).toBe(c.expected);
    // An ndarray inside a payload is written the same way.
    expect(pyJsonDumps(c.array)).toBe(c.expected);
  });

  it('covers every dtype family', () => {
    const dtypes = new Set(cases.map((c) => c.dtype));
    for (const d of ['bool', 'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128', '>f8', '>u2', '<U5', '>U3', '|S3']) {
      expect(dtypes).toContain(d);
    }
  });

  it('reads a view with a byte offset into a larger buffer', () => {
    const backing = new Uint8Array(16);
    new DataView(backing.buffer).setFloat64(5, 0.1, true);
    const arr = new NdArray('float64', [1], backing.subarray(5, 13));
    expect(pyJsonDumps(ndarrayToPy(arr), { indent: null })).toBe('[0.1]');
  });
});
