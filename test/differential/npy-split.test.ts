import { describe, it, expect } from 'vitest';
import { encodeNpy, splitFirstAxis } from '../../src/formats/npy.js';
import { ArchiverError, UnrecoverableError } from '../../src/errors.js';
import { NdArray } from '../../src/heros/values.js';
import { NPY_CORPUS_PRELUDE } from '../helpers/npy-corpus.js';
import { runPython } from '../helpers/python.js';

/**
 * For every array Python prints how HEROS sends it and the bytes of `np.save(row)` for each
 * `row in arr`: 0-d arrays of numpy scalars for 1-d input, strided views for Fortran input.
 *
 * Some bytes numpy writes are undefined, so those cases (`exact: false`) compare the header
 * byte for byte and the values through numpy.load: the padding of a struct when numpy copies
 * a strided row field by field (it writes whatever its buffer held), and the 6 padding bytes
 * of an x87 long double, which a numpy scalar does not carry over.
 */
const CORPUS = String.raw`
${NPY_CORPUS_PRELUDE}
X87 = np.finfo(np.longdouble).nmant == 63

def has_padding(dt):
    if dt.subdtype is not None:
        return has_padding(dt.subdtype[0])
    if dt.names is None:
        return False
    fields = [dt.fields[n][0] for n in dt.names]
    return sum(f.itemsize for f in fields) < dt.itemsize or any(has_padding(f) for f in fields)

def emit(name, a, order):
    arr = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
    rows = [row for row in arr]
    strided = any(isinstance(r, np.ndarray) and not (r.flags.c_contiguous or r.flags.f_contiguous) for r in rows)
    long_double = X87 and a.ndim == 1 and a.dtype.type in (np.longdouble, np.clongdouble)
    exact = not (strided and has_padding(a.dtype)) and not long_double
    print(json.dumps({'name': '%s %s %s' % (name, a.shape, order), 'dtype': str(arr.dtype),
                      'shape': list(arr.shape), 'fortran': order == 'F', 'exact': bool(exact),
                      'data': b64(arr.tobytes(order=order)), 'rows': [b64(save(row)) for row in rows]}))

for spelling in SIMPLE:
    emit(spelling, make(np.dtype(spelling), (7,)), 'C')
for name in ('mixed', 'aligned', 'titles', 'non-latin1'):
    emit(name, make(STRUCTS[name], (4,)), 'C')
SPLIT_SHAPES = [(3, 4), (2, 3, 4), (1, 4, 6), (6, 1), (3, 1, 4), (1, 1, 3), (2, 0, 3), (0, 3), (3, 0), (4, 2, 1, 3)]
for spelling in ('uint16', '>u2', 'int8', '<U5', '>U5', '|S3', 'complex64', '>c16', 'datetime64[ns]', 'float128'):
    for shape in SPLIT_SHAPES:
        for order in ('C', 'F'):
            emit(spelling, make(np.dtype(spelling), shape), order)
for name in ('mixed', 'aligned-nested'):
    for shape in ((3, 4), (2, 3, 2), (1, 2, 3)):
        for order in ('C', 'F'):
            emit(name, make(STRUCTS[name], shape), order)
`;

interface Case {
  name: string;
  dtype: string;
  shape: number[];
  fortran: boolean;
  exact: boolean;
  data: string;
  rows: string[];
}

/** Loads each pair of files with numpy.load and prints the names whose arrays differ. */
const LOAD_CHECK = String.raw`
import base64, io, json, sys
import numpy as np
failures = []
for line in sys.stdin:
    case = json.loads(line)
    ours = np.load(io.BytesIO(base64.b64decode(case['ours'])))
    ref = np.load(io.BytesIO(base64.b64decode(case['ref'])))
    same = ours.dtype == ref.dtype and ours.shape == ref.shape
    if same:
        same = np.array_equal(ours, ref, equal_nan=ref.dtype.names is None)
    if not same:
        failures.append(case['name'])
print(json.dumps(failures))
`;

/** The header of an .npy file: magic, version, length and the padded dict text. */
function headerOf(npy: Buffer): Buffer {
  const length = npy[6] === 1 ? npy.readUInt16LE(8) + 10 : npy.readUInt32LE(8) + 12;
  return npy.subarray(0, length);
}

const cases: Case[] = runPython(CORPUS)
  .toString('utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Case);

describe('splitFirstAxis matches numpy.save of each row of `for row in arr`', () => {
  it('covers 1-d, 2-d, 3-d and Fortran-ordered arrays', () => {
    expect(cases.filter((c) => c.shape.length === 1).length).toBeGreaterThan(35);
    expect(cases.filter((c) => c.fortran).length).toBeGreaterThan(100);
    // Only long doubles and padded structs split from Fortran order have undefined bytes.
    expect(cases.filter((c) => !c.exact).map((c) => c.name)).toEqual([
      'float128 (7,) C',
      'complex256 (7,) C',
      'aligned-nested (3, 4) F',
      'aligned-nested (2, 3, 2) F',
    ]);
  });

  const split = (c: Case): Buffer[] => {
    const arr = new NdArray(c.dtype, c.shape, new Uint8Array(Buffer.from(c.data, 'base64')), c.fortran);
    return splitFirstAxis(arr).map((row) => Buffer.concat(encodeNpy(row)));
  };

  it.each(cases.filter((c) => c.exact).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(split(c).map((npy) => npy.toString('base64'))).toEqual(c.rows);
  });

  it.each(cases.filter((c) => !c.exact).map((c) => [c.name, c] as const))('%s (header bytes, values)', (_name, c) => {
    const ours = split(c);
    const ref = c.rows.map((r) => Buffer.from(r, 'base64'));
    expect(ours.map((npy) => headerOf(npy).toString('latin1'))).toEqual(ref.map((npy) => headerOf(npy).toString('latin1')));
    expect(ours.map((npy) => npy.length)).toEqual(ref.map((npy) => npy.length));
    const input = ours
      .map((npy, i) => JSON.stringify({ name: `${c.name} row ${i}`, ours: npy.toString('base64'), ref: c.rows[i] }))
      .join('\n');
    expect(JSON.parse(runPython(LOAD_CHECK, input).toString('utf8'))).toEqual([]);
  });

  it('refuses a 0-d array, which numpy cannot iterate either', () => {
    const numpy = runPython(String.raw`
import numpy as np
try:
    iter(np.array(5))
    print('iterable')
except TypeError:
    print('TypeError')
`).toString('utf8');
    expect(numpy.trim()).toBe('TypeError');

    const scalar = new NdArray('int64', [], new Uint8Array(8));
    let caught: unknown;
    try {
      splitFirstAxis(scalar);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnrecoverableError);
    expect((caught as ArchiverError).code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    expect((caught as ArchiverError).retryable).toBe(false);
  });

  it('gives rows of a C-order array as views of the received bytes', () => {
    const data = new Uint8Array(3 * 4 * 2);
    const rows = splitFirstAxis(new NdArray('uint16', [3, 4], data));
    expect(rows.map((r) => r.data.buffer)).toEqual([data.buffer, data.buffer, data.buffer]);
    expect(rows.map((r) => r.data.byteOffset)).toEqual([0, 8, 16]);
  });
});
