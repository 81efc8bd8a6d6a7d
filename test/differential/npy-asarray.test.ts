import { describe, it, expect } from 'vitest';
import { asNdArray, encodeNpy } from '../../src/formats/npy.js';
import { ArchiverError, UnrecoverableError } from '../../src/errors.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, type PyValue } from '../../src/heros/values.js';
import { runPython } from '../helpers/python.js';

/** The same value in the JS value model and as Python source. */
interface Case {
  name: string;
  js: PyValue;
  py: string;
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

const SAVED: Case[] = [
  { name: 'True', js: true, py: 'True' },
  { name: 'int', js: 7, py: '7' },
  { name: 'negative int', js: -123456789, py: '-123456789' },
  { name: 'int64 max', js: 2n ** 63n - 1n, py: '2**63 - 1' },
  { name: 'int64 min', js: -(2n ** 63n), py: '-2**63' },
  { name: 'int just beyond int64', js: 2n ** 63n, py: '2**63' },
  { name: 'uint64 max', js: 2n ** 64n - 1n, py: '2**64 - 1' },
  { name: 'whole float', js: new PyFloat(1), py: '1.0' },
  { name: 'negative zero', js: new PyFloat(-0), py: '-0.0' },
  { name: 'fraction', js: 0.1, py: '0.1' },
  { name: 'nan', js: Number.NaN, py: "float('nan')" },
  { name: 'infinity', js: -Infinity, py: "float('-inf')" },
  { name: 'str', js: 'héllo', py: "'h\\u00e9llo'" },
  { name: 'empty str', js: '', py: "''" },
  { name: 'str with NUL', js: 'a\0', py: "'a\\x00'" },
  { name: 'non-BMP str', js: '😀', py: "'\\U0001F600'" },
  { name: 'bytes', js: bytes('ab\xff'), py: "b'ab\\xff'" },
  { name: 'empty bytes', js: new Uint8Array(0), py: "b''" },
  { name: 'bools', js: [true, false, true], py: '[True, False, True]' },
  { name: 'ints', js: [1, 2, 3], py: '[1, 2, 3]' },
  { name: 'bools and ints', js: [true, 2], py: '[True, 2]' },
  { name: 'bools and floats', js: [true, 1.5], py: '[True, 1.5]' },
  { name: 'ints and whole floats', js: [new PyFloat(1), 2], py: '[1.0, 2]' },
  { name: 'uint64 ints', js: [2n ** 63n, 1], py: '[2**63, 1]' },
  { name: 'bool and uint64', js: [true, 2n ** 64n - 1n], py: '[True, 2**64 - 1]' },
  { name: 'int64 and uint64 become float64', js: [-1, 2n ** 63n], py: '[-1, 2**63]' },
  { name: 'uint64 and float', js: [2n ** 64n - 1n, 1.5], py: '[2**64 - 1, 1.5]' },
  { name: 'big int rounds to float', js: [2n ** 63n + 1025n, -1], py: '[2**63 + 1025, -1]' },
  { name: 'matrix', js: [[1, 2, 3], [4, 5, 6]], py: '[[1, 2, 3], [4, 5, 6]]' },
  { name: 'mixed matrix', js: [[1, 0.5], [new PyFloat(3), 4]], py: '[[1, 0.5], [3.0, 4]]' },
  { name: '3-d', js: [[[1], [2]], [[3], [4]]], py: '[[[1], [2]], [[3], [4]]]' },
  { name: 'empty list', js: [], py: '[]' },
  { name: 'empty rows', js: [[], []], py: '[[], []]' },
  { name: 'nested empty', js: [[[]], [[]]], py: '[[[]], [[]]]' },
  { name: 'strings', js: ['ab', '😀', ''], py: "['ab', '\\U0001F600', '']" },
  { name: 'empty strings', js: ['', ''], py: "['', '']" },
  { name: 'string matrix', js: [['a'], ['bcd']], py: "[['a'], ['bcd']]" },
  { name: 'bytes list', js: [bytes('a'), bytes('abc\0')], py: "[b'a', b'abc\\x00']" },
  { name: 'empty bytes list', js: [new Uint8Array(0), new Uint8Array(0)], py: "[b'', b'']" },
  { name: 'tuple', js: [1, 2], py: '(1, 2)' },
];

/** Values numpy.save turns into object arrays (pickled) or rejects as ragged. */
const REFUSED: Case[] = [
  { name: 'None', js: null, py: 'None' },
  { name: 'int beyond uint64', js: 2n ** 64n, py: '2**64' },
  { name: 'int below int64', js: -(2n ** 63n) - 1n, py: '-2**63 - 1' },
  { name: 'ints beyond any integer type', js: [1, 2n ** 64n], py: '[1, 2**64]' },
  { name: 'None in a list', js: [1, null], py: '[1, None]' },
  { name: 'dict', js: { a: 1 }, py: "{'a': 1}" },
  { name: 'ragged rows', js: [[1, 2], [3]], py: '[[1, 2], [3]]' },
  { name: 'list next to scalar', js: [[1, 2], 3], py: '[[1, 2], 3]' },
  { name: 'scalar next to list', js: [1, [2]], py: '[1, [2]]' },
  { name: 'empty next to scalar', js: [[], 1], py: '[[], 1]' },
  { name: 'ragged strings', js: [['a'], 'b'], py: "[['a'], 'b']" },
];

const SCRIPT = String.raw`
import base64, io, json, sys, warnings
import numpy as np
warnings.simplefilter('ignore')
out = []
for source in json.load(sys.stdin):
    try:
        a = np.asarray(eval(source))
    except ValueError as err:
        out.append({'error': type(err).__name__})
        continue
    f = io.BytesIO()
    np.save(f, eval(source))
    out.append({'dtype': str(a.dtype), 'npy': base64.b64encode(f.getvalue()).decode()})
print(json.dumps(out))
`;

type NumpyResult = { dtype: string; npy: string } | { error: string };

const numpy = JSON.parse(
  runPython(SCRIPT, JSON.stringify([...SAVED, ...REFUSED].map((c) => c.py))).toString('utf8'),
) as NumpyResult[];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnrecoverableError);
    return (err as ArchiverError).code;
  }
  return undefined;
}

describe('asNdArray + encodeNpy match numpy.save of Python values', () => {
  it.each(SAVED.map((c, i) => [c.name, c, numpy[i]!] as const))('%s', (_name, c, ref) => {
    if (!('npy' in ref)) throw new Error(`numpy refused ${c.py}`);
    const arr = asNdArray(c.js);
    expect(arr.dtype).toBe(ref.dtype);
    expect(Buffer.concat(encodeNpy(arr)).toString('base64')).toBe(ref.npy);
  });

  it.each(REFUSED.map((c, i) => [c.name, c, numpy[SAVED.length + i]!] as const))(
    'refuses %s, which numpy pickles as an object array or rejects',
    (_name, c, ref) => {
      expect('error' in ref ? ref.error : ref.dtype).toMatch(/^(ValueError|object)$/);
      expect(codeOf(() => asNdArray(c.js))).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    },
  );

  it('refuses strings mixed with numbers, which numpy would turn into text', () => {
    const ref = JSON.parse(runPython(SCRIPT, JSON.stringify(["['a', 1]", "[b'a', 'b']"])).toString('utf8')) as NumpyResult[];
    expect(ref.map((r) => ('dtype' in r ? r.dtype : r.error))).toEqual(['<U21', '<U1']);
    expect(codeOf(() => asNdArray(['a', 1]))).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    expect(codeOf(() => asNdArray([bytes('a'), 'b']))).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });

  it('refuses other Python objects and names what it found', () => {
    const err = (value: PyValue): string => {
      try {
        asNdArray(value);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(new PyDateTime('2024-01-01T00:00:00', 1704067200))).toMatch(/datetime/);
    expect(err([new HeroRef('realm', 'cam')])).toMatch(/HERO reference/);
    expect(err(new Set([1]))).toMatch(/set/);
    expect(err([new NdArray('uint8', [1], new Uint8Array(1))])).toMatch(/ndarray/);
    expect(err([[1, 2], [3]])).toMatch(/ragged/);
  });

  it('passes an ndarray through unchanged', () => {
    const arr = new NdArray('>u2', [2], new Uint8Array(4));
    expect(asNdArray(arr)).toBe(arr);
  });
});
