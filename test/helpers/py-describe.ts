/**
 * A type-tagged description of a HEROS value that both sides can produce: Python describes what
 * heros/cbor2 decoded, JavaScript what `decodeHeros` produced, and the tests compare the two.
 * Ints are decimal strings, floats their IEEE bits, so "1 vs 1.0" and big ints are exact.
 */
import { expect } from 'vitest';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from '../../src/heros/values.js';

/** One described value. */
export type Desc =
  | { t: 'none' }
  | { t: 'undefined' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: string }
  | { t: 'float'; v: string }
  | { t: 'str'; v: string }
  | { t: 'bytes'; hex: string }
  | { t: 'list'; v: Desc[] }
  | { t: 'dict'; v: [Desc, Desc][] }
  | { t: 'set'; v: Desc[] }
  | { t: 'datetime'; iso: string; epoch: number }
  | { t: 'ndarray'; dtype: string; shape: number[]; hex: string }
  | { t: 'hero'; realm: string; name: string }
  | { t: 'tag'; tag: string; v: Desc };

/**
 * Python's side: `serialize` runs heros' own encoder and `deserialize` heros' own tag hook,
 * with two adapters for cbor2 6, which heros 0.8.9 predates:
 * - heros writes ndarray bytes to `encoder.fp`, which cbor2 6 no longer sets; the adapter
 *   gives the encoder an `fp` whose `write` forwards the raw bytes to `encoder.write`.
 * - cbor2 6 calls `tag_hook(tag, immutable)`, heros expects `tag_hook(decoder, tag)`.
 * Both adapters step aside when heros works unaided (cbor2 5).
 * Tags 9000/9002/9003/9004 stay raw: decoding them needs a Zenoh session or a local object.
 */
export const PY_HEROS = String.raw`
import sys, json, struct, math, base64, datetime as dt, collections.abc as cabc
import cbor2, numpy as np
import heros.serdes as S

class _EncoderWithFp:
    def __init__(self, enc): self._enc = enc
    def __getattr__(self, name): return getattr(self._enc, name)
    @property
    def fp(self): return self
    def write(self, data): return self._enc.write(bytes(data))

def _heros_serialize_works():
    try:
        S.serialize(np.zeros(1, dtype=np.uint8))
        return True
    except AttributeError:
        return False

HEROS_SERIALIZE_WORKS = _heros_serialize_works()

def serialize(value):
    if HEROS_SERIALIZE_WORKS:
        return S.serialize(value)
    return cbor2.dumps(value, default=lambda enc, v: S.cbor_default_encoder(_EncoderWithFp(enc), v))

_KEEP_RAW = {9000, 9002, 9003, 9004}

def _tag_hook(*args):
    tag = next(a for a in args if isinstance(a, cbor2.CBORTag))
    return tag if tag.tag in _KEEP_RAW else S.cbor_tag_hook(None, tag)

def deserialize(data):
    return cbor2.loads(data, tag_hook=_tag_hook)

def sort_key(d):
    return json.dumps(d, sort_keys=True, separators=(',', ':'), ensure_ascii=True)

def describe(v):
    if v is None: return {'t': 'none'}
    if v is cbor2.undefined: return {'t': 'undefined'}
    if isinstance(v, bool): return {'t': 'bool', 'v': v}
    if isinstance(v, int): return {'t': 'int', 'v': str(v)}
    if isinstance(v, float): return {'t': 'float', 'v': 'nan' if math.isnan(v) else struct.pack('>d', v).hex()}
    if isinstance(v, str): return {'t': 'str', 'v': v}
    if isinstance(v, (bytes, bytearray, memoryview)): return {'t': 'bytes', 'hex': bytes(v).hex()}
    if isinstance(v, np.ndarray):
        return {'t': 'ndarray', 'dtype': str(v.dtype), 'shape': list(v.shape), 'hex': np.ascontiguousarray(v).tobytes().hex()}
    if isinstance(v, dt.datetime): return {'t': 'datetime', 'iso': v.isoformat().replace('+00:00', 'Z'), 'epoch': v.timestamp()}
    # cbor2 turns these tags into Python objects of its own; describe them as the tags they are.
    if isinstance(v, dt.date): return {'t': 'tag', 'tag': '1004', 'v': describe(v.isoformat())}
    if isinstance(v, complex): return {'t': 'tag', 'tag': '43000', 'v': describe([v.real, v.imag])}
    if isinstance(v, (list, tuple)): return {'t': 'list', 'v': [describe(x) for x in v]}
    if isinstance(v, cabc.Mapping): return {'t': 'dict', 'v': [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, (set, frozenset)): return {'t': 'set', 'v': sorted((describe(x) for x in v), key=sort_key)}
    if isinstance(v, S.UnserializableRemoteObject):
        return {'t': 'tag', 'tag': '9001', 'v': describe([v.type, v.id, v.representation])}
    if isinstance(v, cbor2.CBORTag):
        if v.tag == 9000 and isinstance(v.value, (list, tuple)) and len(v.value) == 2 and all(isinstance(x, str) for x in v.value):
            return {'t': 'hero', 'realm': v.value[0], 'name': v.value[1]}
        return {'t': 'tag', 'tag': str(v.tag), 'v': describe(v.value)}
    raise TypeError(f'cannot describe {type(v)!r}')
`;

/** Options for {@link describeJs}. */
export interface DescribeOptions {
  /**
   * Also check that the value is in the canonical form the decoder must produce (safe ints as
   * numbers, whole floats as PyFloat, dicts as plain objects exactly when allowed).
   * @default true
   */
  strict?: boolean;
}

/** Describes a JavaScript value of the model the same way Python's `describe` does. */
export function describeJs(v: PyValue, options: DescribeOptions = {}): Desc {
  const strict = options.strict ?? true;
  const d = (x: PyValue): Desc => describeJs(x, options);
  if (v === null) return { t: 'none' };
  if (v === undefined) return { t: 'undefined' };
  switch (typeof v) {
    case 'boolean':
      return { t: 'bool', v };
    case 'number':
      if (Number.isInteger(v)) {
        if (strict && !Number.isSafeInteger(v)) throw new Error(`unsafe integer ${v} should be a bigint`);
        return { t: 'int', v: BigInt(v).toString() };
      }
      return { t: 'float', v: floatBits(v) };
    case 'bigint':
      if (strict && v >= -9007199254740991n && v <= 9007199254740991n) throw new Error(`safe integer ${v}n should be a number`);
      return { t: 'int', v: v.toString() };
    case 'string':
      return { t: 'str', v };
    default:
      break;
  }
  if (v instanceof PyFloat) {
    if (strict && !Number.isInteger(v.value)) throw new Error(`PyFloat(${v.value}) should be a plain number`);
    return { t: 'float', v: floatBits(v.value) };
  }
  if (v instanceof Uint8Array) return { t: 'bytes', hex: hex(v) };
  if (Array.isArray(v)) return { t: 'list', v: v.map(d) };
  if (v instanceof NdArray) return { t: 'ndarray', dtype: v.dtype, shape: [...v.shape], hex: hex(v.data) };
  if (v instanceof PyDateTime) return { t: 'datetime', iso: v.iso, epoch: v.epochSeconds };
  if (v instanceof HeroRef) return { t: 'hero', realm: v.realm, name: v.name };
  if (v instanceof Tagged) return { t: 'tag', tag: String(v.tag), v: d(v.value) };
  if (v instanceof Set) return { t: 'set', v: [...v].map(d).sort((a, b) => cmp(sortKey(a), sortKey(b))) };
  if (v instanceof Map) {
    if (strict && [...v.keys()].every((k) => typeof k === 'string' && isPlainKey(k))) {
      throw new Error(`Map with keys ${JSON.stringify([...v.keys()])} should be a plain object`);
    }
    return { t: 'dict', v: [...v].map(([k, x]) => [d(k), d(x)] as [Desc, Desc]) };
  }
  if (strict && Object.getPrototypeOf(v) !== Object.prototype) throw new Error('dict should be a plain object');
  const keys = Object.keys(v);
  if (strict) {
    for (const k of keys) if (!isPlainKey(k)) throw new Error(`key ${JSON.stringify(k)} needs a Map`);
  }
  return { t: 'dict', v: keys.map((k) => [{ t: 'str', v: k }, d(v[k])] as [Desc, Desc]) };
}

function isPlainKey(k: string): boolean {
  if (k === '__proto__') return false;
  const n = Number(k);
  return !(k !== '' && Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === k);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python's `json.dumps(d, sort_keys=True, separators=(',', ':'), ensure_ascii=True)`. */
export function sortKey(value: unknown): string {
  return canonicalJson(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** IEEE-754 bits as hex, or "nan" (NaN payloads are not compared). */
export function floatBits(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return hex(new Uint8Array(view.buffer));
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Asserts that two descriptions are the same; datetimes' epoch seconds may differ by a
 * microsecond rounding (tag 1 keeps the epoch as sent, Python rounds it to microseconds).
 */
export function expectSameDesc(actual: Desc, expected: Desc, where = '$'): void {
  if (actual.t === 'datetime' && expected.t === 'datetime') {
    expect(actual.iso, `${where}.iso`).toBe(expected.iso);
    expect(Math.abs(actual.epoch - expected.epoch), `${where}.epoch ${actual.epoch} vs ${expected.epoch}`).toBeLessThanOrEqual(1e-6);
    return;
  }
  expect(actual.t, `${where}.t`).toBe(expected.t);
  if ((actual.t === 'list' || actual.t === 'set') && (expected.t === 'list' || expected.t === 'set')) {
    expect(actual.v.length, `${where}.length`).toBe(expected.v.length);
    actual.v.forEach((x, i) => expectSameDesc(x, expected.v[i]!, `${where}[${i}]`));
    return;
  }
  if (actual.t === 'dict' && expected.t === 'dict') {
    expect(actual.v.length, `${where}.size`).toBe(expected.v.length);
    actual.v.forEach(([k, x], i) => {
      expectSameDesc(k, expected.v[i]![0], `${where}.key[${i}]`);
      expectSameDesc(x, expected.v[i]![1], `${where}.value[${i}]`);
    });
    return;
  }
  if (actual.t === 'tag' && expected.t === 'tag') {
    expect(actual.tag, `${where}.tag`).toBe(expected.tag);
    expectSameDesc(actual.v, expected.v, `${where}<${actual.tag}>`);
    return;
  }
  expect(actual, where).toEqual(expected);
}
