/**
 * fast-check arbitraries for values of the model in their canonical decoded form (safe ints as
 * numbers, whole floats as PyFloat, dicts as plain objects unless a key forbids it), so that
 * `decodeHeros(encodeHeros(v))` must describe exactly like `v`.
 */
import fc from 'fast-check';
import { HeroRef, NdArray, PyDateTime, Tagged, pyFloat, type PyValue } from '../../src/heros/values.js';

const EDGE_INTS = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
const ITEM_SIZES: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, '>u2': 2, int32: 4, float32: 4, float64: 8,
  int64: 8, uint64: 8, complex128: 16, '<U3': 12, '|S2': 2,
};
/**
 * Tag numbers with no meaning to heros or cbor2 (both give many small numbers and 9001 a
 * meaning of their own), so Python keeps them as plain tags too.
 */
const plainTag = fc.oneof(fc.integer({ min: 5000, max: 8999 }), fc.integer({ min: 10000, max: 42999 }));

const safeInt: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...EDGE_INTS, ...EDGE_INTS.map((n) => -n - 1).filter(Number.isSafeInteger)),
  fc.integer(),
  fc.maxSafeInteger(),
);
const bigInt: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 90n }),
  fc.bigInt({ min: -(2n ** 90n), max: -(2n ** 53n) }),
  fc.constantFrom(2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), -(2n ** 64n) - 1n),
);
const float = fc.double().map(pyFloat);
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 30 }));

const dateTime: fc.Arbitrary<PyDateTime> = fc
  .tuple(fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999 }))
  .map(([seconds, micro]) => {
    const base = new Date(seconds * 1000).toISOString().slice(0, 19);
    const iso = `${base}${micro === 0 ? '' : `.${String(micro).padStart(6, '0')}`}Z`;
    return new PyDateTime(iso, (seconds * 1e6 + micro) / 1e6);
  });

const ndarray: fc.Arbitrary<NdArray> = fc
  .tuple(fc.constantFrom(...Object.keys(ITEM_SIZES)), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const size = count * ITEM_SIZES[dtype]!;
    return fc.uint8Array({ minLength: size, maxLength: size }).map((data) => new NdArray(dtype, shape, data));
  });

function isPlainKey(k: string): boolean {
  if (k === '__proto__') return false;
  const n = Number(k);
  return !(k !== '' && Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === k);
}

/** Keys that force a `Map`. */
const mapOnlyKey: fc.Arbitrary<PyValue> = fc.oneof(
  safeInt,
  bigInt,
  fc.nat({ max: 1000 }).map(String),
  fc.constant('__proto__'),
);

/** Values of the model, nested up to `depth` levels. */
export function pyValue(depth = 3): fc.Arbitrary<PyValue> {
  const { value } = fc.letrec<{ value: PyValue; leaf: PyValue }>((tie) => ({
    leaf: fc.oneof(
      fc.constantFrom<PyValue>(null, undefined, true, false),
      safeInt,
      bigInt,
      float,
      text,
      fc.uint8Array({ maxLength: 40 }),
      dateTime,
      ndarray,
      fc.tuple(text, text).map(([realm, name]) => new HeroRef(realm, name)),
    ),
    value: fc.oneof(
      { depthSize: 'small', maxDepth: depth },
      { arbitrary: tie('leaf'), weight: 4 },
      fc.array(tie('value'), { maxLength: 5 }),
      fc
        .array(fc.tuple(text.filter(isPlainKey), tie('value')), { maxLength: 5 })
        .map((entries) => Object.fromEntries(entries) as PyValue),
      fc
        .tuple(mapOnlyKey, tie('value'), fc.array(fc.tuple(fc.oneof(mapOnlyKey, text), tie('value')), { maxLength: 4 }))
        .map(([k, v, rest]) => new Map<PyValue, PyValue>([[k, v], ...rest])),
      fc.array(fc.oneof(safeInt, text), { maxLength: 5 }).map((items) => new Set<PyValue>(items)),
      fc
        .tuple(plainTag, tie('value'))
        .map(([tag, v]) => new Tagged(tag, v)),
    ),
  }));
  return value;
}
