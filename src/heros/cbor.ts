/**
 * CBOR (RFC 8949) as HEROS speaks it: Python's `heros.serdes.serialize`, which is
 * `cbor2.dumps(obj, default=cbor_default_encoder)`, decoded into the value model of
 * `values.ts`, and encoded back byte for byte the way cbor2 does.
 *
 *   event bytes ──decodeHeros──▶ PyValue ──encodeHeros──▶ the bytes Python would send
 *
 * The decoder sees bytes from the network, so it trusts nothing: every length is checked
 * against the bytes that are left before anything is allocated, nesting and item counts are
 * bounded, and every failure is an `ArchiverError` with code `ARCHIVER_DECODE_FAILED` and the
 * byte offset. Byte strings (and so ndarray data) are views into the input, not copies.
 *
 * Tags with a meaning in HEROS become their own classes (ndarray 4242, HERO reference 9000,
 * set 258, datetime 0/1, bignum 2/3). A tag whose content does not have the expected shape is
 * kept as a `Tagged` instead of failing the whole event, so that it can still be archived or
 * dead-lettered (Python would refuse the whole message).
 */

import { ArchiverError } from '../errors.js';
import { dateTimeFromEpoch, dateTimeFromText, dateTimeText } from './cbor-datetime.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from './values.js';

/** Bounds for {@link decodeHeros}; the input is untrusted network data. */
export interface DecodeLimits {
  /**
   * Deepest nesting of arrays, maps and tags. Python's cbor2 refuses more than 400.
   * @default 512
   */
  maxDepth?: number;
  /**
   * Most data items (array elements, map keys and values, string chunks) in one message.
   * Bounds memory: an item costs one input byte but a JavaScript object is much larger.
   * @default 16_777_216
   */
  maxItems?: number;
  /**
   * Largest accepted message, in bytes.
   * @default Infinity
   */
  maxBytes?: number;
}

/** Default of {@link DecodeLimits.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 512;
/** Default of {@link DecodeLimits.maxItems}. */
export const DEFAULT_MAX_ITEMS = 16_777_216;

/** CBOR tags with a meaning in HEROS (`heros/serdes.py`) or cbor2. */
export const TAG = {
  DATETIME_STRING: 0,
  DATETIME_EPOCH: 1,
  POSITIVE_BIGNUM: 2,
  NEGATIVE_BIGNUM: 3,
  SET: 258,
  NDARRAY: 4242,
  HERO: 9000,
  UNSERIALIZABLE: 9001,
  UNSERIALIZABLE_REFERENCE: 9002,
  HERO_EVENT: 9003,
  HERO_METHOD: 9004,
  SELF_DESCRIBE: 55799,
} as const;

const TWO_32 = 4294967296;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

// `ignoreBOM` keeps a leading U+FEFF as part of the string instead of silently dropping it.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes one HEROS message (exactly one CBOR data item; trailing bytes are an error, although
 * Python's cbor2 ignores them).
 *
 * @throws ArchiverError `ARCHIVER_DECODE_FAILED` for anything that is not well-formed CBOR or
 *   exceeds `limits`; never any other error.
 */
export function decodeHeros(bytes: Uint8Array, limits: DecodeLimits = {}): PyValue {
  if (!(bytes instanceof Uint8Array)) {
    throw new ArchiverError('ARCHIVER_DECODE_FAILED', `expected a Uint8Array, got ${describeType(bytes)}`);
  }
  const maxBytes = limits.maxBytes ?? Infinity;
  if (bytes.length > maxBytes) {
    throw new ArchiverError('ARCHIVER_DECODE_FAILED', `message of ${bytes.length} bytes exceeds maxBytes ${maxBytes}`);
  }
  const decoder = new Decoder(bytes, limits.maxDepth ?? DEFAULT_MAX_DEPTH, limits.maxItems ?? DEFAULT_MAX_ITEMS);
  try {
    const value = decoder.item();
    if (decoder.pos !== bytes.length) {
      decoder.fail(`${bytes.length - decoder.pos} trailing bytes after the data item`, decoder.pos);
    }
    return value;
  } catch (err) {
    if (err instanceof ArchiverError) throw err;
    // Nothing else is expected; a stack overflow on a small stack would end up here.
    throw new ArchiverError('ARCHIVER_DECODE_FAILED', `invalid CBOR at byte ${decoder.pos}: ${String(err)}`, { cause: err });
  }
}

class Decoder {
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly maxDepth: number;
  readonly maxItems: number;
  #view: DataView | undefined;
  pos = 0;
  depth = 0;
  items = 1;

  constructor(bytes: Uint8Array, maxDepth: number, maxItems: number) {
    this.bytes = bytes;
    this.end = bytes.length;
    this.maxDepth = maxDepth;
    this.maxItems = maxItems;
  }

  fail(message: string, at: number): never {
    throw new ArchiverError('ARCHIVER_DECODE_FAILED', `invalid CBOR at byte ${at}: ${message}`);
  }

  get view(): DataView {
    // Only floats need it; most messages have none or few.
    return (this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  item(): PyValue {
    const start = this.pos;
    if (start >= this.end) this.fail('unexpected end of input', start);
    const ib = this.bytes[start]!;
    this.pos = start + 1;
    const ai = ib & 31;
    switch (ib >> 5) {
      case 0:
        return this.argument(ai, start);
      case 1: {
        const n = this.argument(ai, start);
        if (typeof n === 'number') return n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n);
        return -1n - n;
      }
      case 2:
        return ai === 31 ? this.indefiniteBytes(start) : this.byteString(this.length(ai, start));
      case 3:
        return ai === 31 ? this.indefiniteText(start) : this.text(this.length(ai, start), start);
      case 4:
        return ai === 31 ? this.indefiniteArray(start) : this.array(this.length(ai, start), start);
      case 5:
        return ai === 31 ? this.indefiniteMap(start) : this.map(this.length(ai, start), start);
      case 6:
        return this.tag(ai, start);
      default:
        return this.simple(ai, start);
    }
  }

  /** The argument of an initial byte as an integer (majors 0, 1, 6). */
  argument(ai: number, start: number): number | bigint {
    if (ai < 24) return ai;
    const b = this.bytes;
    const p = this.pos;
    switch (ai) {
      case 24:
        this.need(1, start);
        this.pos = p + 1;
        return b[p]!;
      case 25:
        this.need(2, start);
        this.pos = p + 2;
        return (b[p]! << 8) | b[p + 1]!;
      case 26:
        this.need(4, start);
        this.pos = p + 4;
        return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      case 27: {
        this.need(8, start);
        this.pos = p + 8;
        const hi = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
        const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
        // hi < 2^21 keeps the value within Number.MAX_SAFE_INTEGER.
        if (hi < 0x200000) return hi * TWO_32 + lo;
        return (BigInt(hi) << 32n) | BigInt(lo);
      }
      case 31:
        return this.fail(`indefinite length is not allowed for major type ${this.bytes[start]! >> 5}`, start);
      default:
        return this.fail(`reserved additional information ${ai}`, start);
    }
  }

  /** A definite length: checked against the input before anything is allocated. */
  length(ai: number, start: number): number {
    const n = this.argument(ai, start);
    if (typeof n !== 'number' || n > this.end - this.pos) {
      this.fail(`declared length ${n} exceeds the ${this.end - this.pos} bytes left`, start);
    }
    return n;
  }

  need(n: number, start: number): void {
    if (this.pos + n > this.end) this.fail('unexpected end of input', start);
  }

  count(n: number, start: number): void {
    this.items += n;
    if (this.items > this.maxItems) this.fail(`more than maxItems ${this.maxItems} data items`, start);
  }

  enter(start: number): void {
    if (++this.depth > this.maxDepth) this.fail(`nesting deeper than maxDepth ${this.maxDepth}`, start);
  }

  byteString(len: number): Uint8Array {
    const p = this.pos;
    this.pos = p + len;
    return this.bytes.subarray(p, p + len);
  }

  text(len: number, start: number): string {
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + len;
    // Short ASCII strings (map keys, dtype names) are cheaper in JavaScript than a call into
    // TextDecoder.
    if (len <= 24) {
      let s = '';
      for (let i = p; i < p + len; i++) {
        const c = b[i]!;
        if (c >= 0x80) return this.utf8(b.subarray(p, p + len), start);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.utf8(b.subarray(p, p + len), start);
  }

  utf8(bytes: Uint8Array, start: number): string {
    try {
      return textDecoder.decode(bytes);
    } catch {
      return this.fail('invalid UTF-8 in text string', start);
    }
  }

  /** Chunks of an indefinite-length string: definite strings of the same major type. */
  chunks(major: number, start: number): Uint8Array[] {
    const b = this.bytes;
    const parts: Uint8Array[] = [];
    for (;;) {
      const at = this.pos;
      if (at >= this.end) this.fail('unexpected end of input in indefinite-length string', start);
      const ib = b[at]!;
      if (ib === 0xff) {
        this.pos = at + 1;
        return parts;
      }
      if (ib >> 5 !== major || (ib & 31) === 31) {
        this.fail('indefinite-length string chunk must be a definite string of the same type', at);
      }
      this.count(1, at);
      this.pos = at + 1;
      const len = this.length(ib & 31, at);
      parts.push(this.byteString(len));
    }
  }

  indefiniteBytes(start: number): Uint8Array {
    const parts = this.chunks(2, start);
    if (parts.length === 1) return parts[0]!;
    let total = 0;
    for (const part of parts) total += part.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const part of parts) {
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  indefiniteText(start: number): string {
    const parts = this.chunks(3, start);
    let s = '';
    // Each chunk must be valid UTF-8 on its own (RFC 8949 §3.2.3).
    for (const part of parts) s += this.utf8(part, start);
    return s;
  }

  array(len: number, start: number): PyValue[] {
    this.count(len, start);
    this.enter(start);
    const out = new Array<PyValue>(len);
    for (let i = 0; i < len; i++) out[i] = this.item();
    this.depth--;
    return out;
  }

  indefiniteArray(start: number): PyValue[] {
    this.enter(start);
    const out: PyValue[] = [];
    for (;;) {
      if (this.pos >= this.end) this.fail('unexpected end of input in indefinite-length array', start);
      if (this.bytes[this.pos] === 0xff) {
        this.pos++;
        break;
      }
      this.count(1, this.pos);
      out.push(this.item());
    }
    this.depth--;
    return out;
  }

  map(len: number, start: number): Map<PyValue, PyValue> | { [key: string]: PyValue } {
    // Each entry takes at least two bytes.
    if (len * 2 > this.end - this.pos) this.fail(`declared map size ${len} exceeds the bytes left`, start);
    this.count(len * 2, start);
    this.enter(start);
    const builder = new MapBuilder();
    for (let i = 0; i < len; i++) {
      const key = this.item();
      builder.set(key, this.item());
    }
    this.depth--;
    return builder.result();
  }

  indefiniteMap(start: number): Map<PyValue, PyValue> | { [key: string]: PyValue } {
    this.enter(start);
    const builder = new MapBuilder();
    for (;;) {
      if (this.pos >= this.end) this.fail('unexpected end of input in indefinite-length map', start);
      if (this.bytes[this.pos] === 0xff) {
        this.pos++;
        break;
      }
      this.count(2, this.pos);
      const key = this.item();
      // A break here (a key without a value) is rejected by item().
      builder.set(key, this.item());
    }
    this.depth--;
    return builder.result();
  }

  tag(ai: number, start: number): PyValue {
    const tag = this.argument(ai, start);
    this.enter(start);
    const content = this.item();
    this.depth--;
    if (typeof tag === 'bigint') return new Tagged(tag, content);
    switch (tag) {
      case TAG.NDARRAY:
        return toNdArray(content) ?? new Tagged(tag, content);
      case TAG.HERO:
        if (Array.isArray(content) && content.length === 2) {
          const [realm, name] = content;
          if (typeof realm === 'string' && typeof name === 'string') return new HeroRef(realm, name);
        }
        return new Tagged(tag, content);
      case TAG.SET:
        return Array.isArray(content) ? new Set(content) : new Tagged(tag, content);
      case TAG.POSITIVE_BIGNUM:
        return content instanceof Uint8Array ? intFromBigInt(bigIntFromBytes(content)) : new Tagged(tag, content);
      case TAG.NEGATIVE_BIGNUM:
        return content instanceof Uint8Array ? intFromBigInt(-1n - bigIntFromBytes(content)) : new Tagged(tag, content);
      case TAG.DATETIME_STRING:
        return (typeof content === 'string' && dateTimeFromText(content)) || new Tagged(tag, content);
      case TAG.DATETIME_EPOCH:
        return dateTimeFromEpoch(content) ?? new Tagged(tag, content);
      case TAG.SELF_DESCRIBE:
        // cbor2 drops the self-describe marker too.
        return content;
      default:
        return new Tagged(tag, content);
    }
  }

  simple(ai: number, start: number): PyValue {
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 24: {
        this.need(1, start);
        const v = this.bytes[this.pos++]!;
        // Values below 32 must use the one-byte form (RFC 8949 §3.3).
        if (v < 32) this.fail(`simple value ${v} in two-byte form is not well-formed`, start);
        return this.fail(`unsupported simple value ${v}`, start);
      }
      case 25: {
        this.need(2, start);
        const p = this.pos;
        this.pos = p + 2;
        return asFloat(halfToNumber((this.bytes[p]! << 8) | this.bytes[p + 1]!));
      }
      case 26: {
        this.need(4, start);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return asFloat(v);
      }
      case 27: {
        this.need(8, start);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return asFloat(v);
      }
      case 31:
        return this.fail('unexpected break', start);
      default:
        if (ai < 20) return this.fail(`unsupported simple value ${ai}`, start);
        return this.fail(`reserved additional information ${ai}`, start);
    }
  }
}

/**
 * Collects map entries into a plain object while every key is a string that JavaScript keeps
 * in insertion order, and switches to a `Map` at the first key that is not.
 */
class MapBuilder {
  #object: { [key: string]: PyValue } | undefined = {};
  #map: Map<PyValue, PyValue> | undefined;

  set(key: PyValue, value: PyValue): void {
    const object = this.#object;
    if (object !== undefined) {
      if (typeof key === 'string' && isPlainObjectKey(key)) {
        // A repeated key keeps its first position and takes the last value, as in a Python dict.
        object[key] = value;
        return;
      }
      this.#map = new Map<PyValue, PyValue>(Object.entries(object));
      this.#object = undefined;
    }
    this.#map!.set(key, value);
  }

  result(): Map<PyValue, PyValue> | { [key: string]: PyValue } {
    return this.#object ?? this.#map!;
  }
}

/**
 * True when `key` can be an own property of a plain object without changing the order or the
 * object: array indices ("0", "42") are enumerated first in numeric order, and assigning
 * `__proto__` would replace the prototype.
 */
export function isPlainObjectKey(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const n = Number(key);
    return !(Number.isInteger(n) && n < 4294967295 && String(n) === key);
  }
  return key !== '__proto__';
}

function asFloat(v: number): number | PyFloat {
  return Number.isInteger(v) ? new PyFloat(v) : v;
}

/** IEEE 754 binary16 to a double, exactly (subnormals, ±0, ±Infinity, NaN). */
function halfToNumber(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  let v: number;
  if (exponent === 0) v = mantissa * 2 ** -24;
  else if (exponent === 31) v = mantissa === 0 ? Infinity : NaN;
  else v = (mantissa + 1024) * 2 ** (exponent - 25);
  return h & 0x8000 ? -v : v;
}

function bigIntFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length <= 6) {
    let n = 0;
    for (const b of bytes) n = n * 256 + b;
    return BigInt(n);
  }
  // Hex parsing is linear in V8; byte-by-byte bigint arithmetic would be quadratic.
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

function intFromBigInt(n: bigint): number | bigint {
  return n >= -MAX_SAFE_BIGINT && n <= MAX_SAFE_BIGINT ? Number(n) : n;
}

/** `[shape, dtype bytes, data bytes]` → NdArray, or undefined when the content is not that. */
function toNdArray(content: PyValue): NdArray | undefined {
  if (!Array.isArray(content) || content.length !== 3) return undefined;
  const [shape, dtype, data] = content;
  if (!Array.isArray(shape) || !(dtype instanceof Uint8Array) || !(data instanceof Uint8Array)) return undefined;
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0) return undefined;
    count *= dim;
  }
  // The item size must be a whole, non-zero number of bytes; numpy refuses the buffer otherwise.
  if (count === 0 ? data.length !== 0 : data.length === 0 || data.length % count !== 0) return undefined;
  let dtypeName: string;
  try {
    dtypeName = textDecoder.decode(dtype);
  } catch {
    return undefined;
  }
  return new NdArray(dtypeName, shape as number[], data);
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes a value as `heros.serdes.serialize` would encode the matching Python value: cbor2's
 * defaults (shortest integer heads, floats always as doubles except NaN/±Infinity as half
 * floats, ints beyond 64 bits as bignum tags 2/3, sets as tag 258, aware datetimes as tag 0
 * text with `Z` for UTC) plus the ndarray tag 4242 in C order.
 *
 * A plain whole `number` is a Python int (the value model keeps whole floats as `PyFloat`).
 *
 * @throws TypeError for values outside the value model (functions, symbols, class instances
 *   other than the value classes, strings with lone surrogates, inconsistent NdArrays, cycles).
 */
export function encodeHeros(value: PyValue): Uint8Array {
  const encoder = new Encoder();
  encoder.value(value);
  return encoder.finish();
}

// Python's decoders stop at 400 levels; cycles would otherwise recurse until the stack ends.
const MAX_ENCODE_DEPTH = 4096;

class Encoder {
  buf = new Uint8Array(256);
  #view: DataView | undefined;
  pos = 0;
  depth = 0;

  finish(): Uint8Array {
    // Hand back a right-sized copy only when much of the buffer would be wasted.
    const waste = this.buf.length - this.pos;
    return waste > Math.max(4096, this.pos >> 2) ? this.buf.slice(0, this.pos) : this.buf.subarray(0, this.pos);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    // Room beyond a large byte string, so the metadata after it does not double the buffer.
    const grown = new Uint8Array(Math.max(this.buf.length * 2, need + 1024));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.#view = undefined;
  }

  get view(): DataView {
    return (this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  /** An initial byte with the shortest argument for a non-negative safe integer. */
  head(major: number, n: number): void {
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    const m = major << 5;
    if (n < 24) {
      b[p++] = m | n;
    } else if (n < 0x100) {
      b[p++] = m | 24;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = m | 25;
      b[p++] = n >> 8;
      b[p++] = n & 0xff;
    } else if (n < TWO_32) {
      b[p++] = m | 26;
      p = writeU32(b, p, n);
    } else {
      b[p++] = m | 27;
      p = writeU32(b, p, Math.floor(n / TWO_32));
      p = writeU32(b, p, n >>> 0);
    }
    this.pos = p;
  }

  /** Like head() for 0 <= n < 2^64 given as a bigint. */
  headBig(major: number, n: bigint): void {
    if (n <= MAX_SAFE_BIGINT) {
      this.head(major, Number(n));
      return;
    }
    this.ensure(9);
    this.buf[this.pos++] = (major << 5) | 27;
    this.pos = writeU32(this.buf, this.pos, Number(n >> 32n));
    this.pos = writeU32(this.buf, this.pos, Number(n & 0xffffffffn));
  }

  value(v: PyValue): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v)) {
          if (Number.isSafeInteger(v)) {
            if (v >= 0) this.head(0, v);
            else this.head(1, -1 - v);
          } else {
            this.bigint(BigInt(v));
          }
        } else {
          this.float(v);
        }
        return;
      case 'string':
        this.text(v);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xf5 : 0xf4;
        return;
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = 0xf7;
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'object':
        this.object(v);
        return;
      default:
        throw new TypeError(`cannot encode a ${typeof v} as HEROS CBOR`);
    }
  }

  object(v: Exclude<PyValue, number | string | boolean | undefined | bigint>): void {
    if (v === null) {
      this.ensure(1);
      this.buf[this.pos++] = 0xf6;
      return;
    }
    if (v instanceof Uint8Array) {
      this.bytes(v);
      return;
    }
    if (v instanceof PyFloat) {
      this.float(v.value);
      return;
    }
    if (++this.depth > MAX_ENCODE_DEPTH) throw new TypeError(`value nested deeper than ${MAX_ENCODE_DEPTH} levels (a cycle?)`);
    if (Array.isArray(v)) {
      this.head(4, v.length);
      for (const item of v) this.value(item);
    } else if (v instanceof Map) {
      this.head(5, v.size);
      for (const [key, item] of v) {
        this.value(key);
        this.value(item);
      }
    } else if (v instanceof NdArray) {
      this.ndarray(v);
    } else if (v instanceof Set) {
      this.head(6, TAG.SET);
      this.head(4, v.size);
      for (const item of v) this.value(item);
    } else if (v instanceof PyDateTime) {
      this.head(6, TAG.DATETIME_STRING);
      this.text(dateTimeText(v));
    } else if (v instanceof HeroRef) {
      this.head(6, TAG.HERO);
      this.head(4, 2);
      this.text(v.realm);
      this.text(v.name);
    } else if (v instanceof Tagged) {
      const tag = v.tag;
      if (typeof tag === 'bigint') {
        if (tag < 0n || tag > U64_MAX) throw new TypeError(`CBOR tag ${tag} is out of range`);
        this.headBig(6, tag);
      } else {
        if (!Number.isSafeInteger(tag) || tag < 0) throw new TypeError(`CBOR tag ${tag} is out of range`);
        this.head(6, tag);
      }
      this.value(v.value);
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`cannot encode ${describeType(v)} as HEROS CBOR`);
      }
      const keys = Object.keys(v);
      this.head(5, keys.length);
      for (const key of keys) {
        this.text(key);
        this.value(v[key]);
      }
    }
    this.depth--;
  }

  float(v: number): void {
    this.ensure(9);
    const b = this.buf;
    // cbor2 writes every finite float as a double and the non-finite ones as half floats.
    if (Number.isNaN(v)) {
      b[this.pos++] = 0xf9;
      b[this.pos++] = 0x7e;
      b[this.pos++] = 0x00;
    } else if (v === Infinity || v === -Infinity) {
      b[this.pos++] = 0xf9;
      b[this.pos++] = v > 0 ? 0x7c : 0xfc;
      b[this.pos++] = 0x00;
    } else {
      b[this.pos++] = 0xfb;
      this.view.setFloat64(this.pos, v);
      this.pos += 8;
    }
  }

  bigint(v: bigint): void {
    if (v >= 0n) {
      if (v <= U64_MAX) this.headBig(0, v);
      else this.bignum(TAG.POSITIVE_BIGNUM, v);
    } else {
      const n = -1n - v;
      if (n <= U64_MAX) this.headBig(1, n);
      else this.bignum(TAG.NEGATIVE_BIGNUM, n);
    }
  }

  /** Tag 2/3 with the shortest big-endian magnitude, as cbor2 writes ints beyond 64 bits. */
  bignum(tag: number, n: bigint): void {
    let hex = n.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    this.head(6, tag);
    this.bytes(Buffer.from(hex, 'hex'));
  }

  bytes(v: Uint8Array): void {
    this.head(2, v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  text(s: string): void {
    const len = s.length;
    if (len < 24) {
      // Short ASCII: one pass, no encoder call.
      this.ensure(1 + len);
      const b = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === len) {
        b[this.pos] = 0x60 | len;
        this.pos = p;
        return;
      }
    }
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      throw new TypeError('cannot encode a string with lone surrogates as UTF-8');
    }
    // Reserve the head for the longest possible encoding, encode, then close the gap when
    // the actual length needs a shorter head.
    const max = len * 3;
    const reserved = headSize(max);
    // head() below asks for 9 bytes at `at`; reserve them too so it cannot reallocate.
    this.ensure(9 + max);
    const at = this.pos;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(at + reserved, at + reserved + max));
    const size = headSize(written);
    if (size !== reserved) this.buf.copyWithin(at + size, at + reserved, at + reserved + written);
    this.head(3, written);
    this.pos = at + size + written;
  }

  ndarray(a: NdArray): void {
    const { shape, data, dtype } = a;
    let count = 1;
    for (const dim of shape) {
      if (!Number.isSafeInteger(dim) || dim < 0) throw new TypeError(`ndarray shape ${JSON.stringify(shape)} is not a list of sizes`);
      count *= dim;
    }
    if (count === 0 ? data.length !== 0 : data.length === 0 || data.length % count !== 0) {
      throw new TypeError(`ndarray data of ${data.length} bytes does not fit shape ${JSON.stringify(shape)}`);
    }
    this.head(6, TAG.NDARRAY);
    this.head(4, 3);
    this.head(4, shape.length);
    for (const dim of shape) this.head(0, dim);
    this.bytes(textEncoder.encode(dtype));
    // heros calls np.ascontiguousarray first: the wire is always C order.
    this.bytes(a.fortranOrder && shape.length > 1 && count > 0 ? fortranToC(data, shape, data.length / count) : data);
  }
}

function writeU32(b: Uint8Array, p: number, n: number): number {
  b[p] = n >>> 24;
  b[p + 1] = (n >>> 16) & 0xff;
  b[p + 2] = (n >>> 8) & 0xff;
  b[p + 3] = n & 0xff;
  return p + 4;
}

function headSize(n: number): number {
  if (n < 24) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < TWO_32) return 5;
  return 9;
}

/** Reorders column-major element bytes into row-major order. */
function fortranToC(data: Uint8Array, shape: readonly number[], itemSize: number): Uint8Array {
  const ndim = shape.length;
  const out = new Uint8Array(data.length);
  // Fortran strides, in elements.
  const strides = new Array<number>(ndim);
  let stride = 1;
  for (let k = 0; k < ndim; k++) {
    strides[k] = stride;
    stride *= shape[k]!;
  }
  const index = new Array<number>(ndim).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += itemSize) {
    const from = src * itemSize;
    for (let k = 0; k < itemSize; k++) out[o + k] = data[from + k]!;
    // Advance the C-order multi-index (last axis fastest) and the Fortran offset with it.
    for (let k = ndim - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) {
        src += strides[k]!;
        break;
      }
      src -= strides[k]! * (shape[k]! - 1);
      index[k] = 0;
    }
  }
  return out;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}
