import { describe, it, expect } from 'vitest';
import { encodeNpy } from '../../src/formats/npy.js';
import { NdArray } from '../../src/heros/values.js';
import { NPY_CORPUS_PRELUDE } from '../helpers/npy-corpus.js';
import { runPython } from '../helpers/python.js';

/**
 * For every case Python prints one JSON line: the array as HEROS sends it (str(dtype), shape,
 * raw bytes) and the bytes `np.save` writes for it. Fortran cases send the Fortran-ordered
 * bytes of `np.asfortranarray(a)` and expect `np.save` of that array.
 */
const CORPUS = String.raw`
${NPY_CORPUS_PRELUDE}
def emit(name, a):
    for order in ('C', 'F'):
        if order == 'C':
            arr = np.ascontiguousarray(a)
            data = arr.tobytes()
        else:
            arr = np.asfortranarray(a)
            data = arr.tobytes(order='F')
        print(json.dumps({'name': '%s %s %s' % (name, a.shape, order), 'dtype': str(arr.dtype),
                          'shape': list(arr.shape), 'fortran': order == 'F', 'data': b64(data),
                          'npy': b64(save(arr))}))

for spelling in SIMPLE:
    dt = np.dtype(spelling)
    for shape in SHAPES:
        emit(spelling, make(dt, shape))
for name, dt in STRUCTS.items():
    for shape in (FEW_SHAPES if name == 'version-2' else SHAPES):
        emit(name, make(dt, shape))
`;

/** Loads our bytes and numpy's with numpy.load and compares them; prints the failures. */
const LOAD_CHECK = String.raw`
import base64, io, json, sys
import numpy as np
failures = []
checked = 0
for line in sys.stdin:
    case = json.loads(line)
    checked += 1
    ours = np.load(io.BytesIO(base64.b64decode(case['ours'])), max_header_size=10**7)
    ref = np.load(io.BytesIO(base64.b64decode(case['ref'])), max_header_size=10**7)
    ok = ours.dtype == ref.dtype and ours.shape == ref.shape and ours.flags.f_contiguous == ref.flags.f_contiguous
    if ok:
        if ref.dtype.names is None and ref.dtype.kind in 'fcmM':
            ok = np.array_equal(ours, ref, equal_nan=True)
        elif ref.dtype.names is None:
            ok = np.array_equal(ours, ref)
        elif len(ref.dtype.names) > 0:
            # Field by field: numpy.load leaves a padded struct's padding bytes undefined.
            ok = np.array_equal(ours, ref)
    if not ok:
        failures.append(case['name'])
print(json.dumps({'checked': checked, 'failures': failures}))
`;

interface Case {
  name: string;
  dtype: string;
  shape: number[];
  fortran: boolean;
  data: string;
  npy: string;
}

const cases: Case[] = runPython(CORPUS)
  .toString('utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Case);

function ours(c: Case): Buffer {
  const arr = new NdArray(c.dtype, c.shape, new Uint8Array(Buffer.from(c.data, 'base64')), c.fortran);
  return Buffer.concat(encodeNpy(arr));
}

describe('encodeNpy matches numpy.save byte for byte', () => {
  it('covers every dtype and shape in the corpus', () => {
    expect(cases.length).toBeGreaterThan(900);
    expect(new Set(cases.map((c) => c.dtype)).size).toBeGreaterThan(45);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(ours(c).toString('base64')).toBe(c.npy);
  });

  it('numpy.load reads our files back as the same arrays', () => {
    const input = cases.map((c) => JSON.stringify({ name: c.name, ours: ours(c).toString('base64'), ref: c.npy })).join('\n');
    const result = JSON.parse(runPython(LOAD_CHECK, input).toString('utf8')) as { checked: number; failures: string[] };
    expect(result.failures).toEqual([]);
    expect(result.checked).toBe(cases.length);
  });

  it('writes format 2.0 when the header does not fit 65535 bytes and 3.0 for non-latin-1 names', () => {
    const versionOf = (name: string): number => {
      const c = cases.find((x) => x.name === name);
      if (c === undefined) throw new Error(`no case ${name}`);
      return ours(c)[6]!;
    };
    expect(versionOf('version-2 (3,) C')).toBe(2);
    expect(versionOf('non-latin1 (5,) C')).toBe(3);
    expect(versionOf('flat (5,) C')).toBe(1);
  });
});
