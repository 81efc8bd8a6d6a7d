/**
 * The values an event carries after decoding, and how Python types map onto them.
 *
 * HEROS events are Python objects serialised with cbor2. Archivers must write what Python
 * would write, so a few Python distinctions that JavaScript lacks are kept explicitly:
 *
 * | Python            | JavaScript value                                                  |
 * |-------------------|-------------------------------------------------------------------|
 * | `None`            | `null`                                                            |
 * | `bool`            | `boolean`                                                         |
 * | `int`             | `number` when it is a safe integer, otherwise `bigint`            |
 * | `float`           | `number` when it is not a whole number (0.5, NaN, Infinity);      |
 * |                   | a {@link PyFloat} when it is whole (1.0, -0.0, 1e16), because a   |
 * |                   | plain `1` would be read back as the int `1`                        |
 * | `str`             | `string`                                                          |
 * | `bytes`           | `Uint8Array`                                                      |
 * | `list`, `tuple`   | `Array`                                                           |
 * | `dict`            | plain object when every key is a string that is not an array      |
 * |                   | index; otherwise a `Map` (keeps key order and non-string keys)     |
 * | `set`             | `Set`                                                             |
 * | `datetime`        | {@link PyDateTime}                                                 |
 * | `numpy.ndarray`   | {@link NdArray}                                                    |
 * | HERO reference    | {@link HeroRef}                                                    |
 * | other tags        | {@link Tagged}                                                     |
 */

/** A Python `float` whose value is a whole number (`1.0`), kept distinct from the int `1`. */
export class PyFloat {
  /** The IEEE-754 double. */
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

/**
 * Wraps a double as a Python float: a plain `number` when it cannot be mistaken for an int,
 * a {@link PyFloat} when it is a whole number.
 */
export function pyFloat(value: number): number | PyFloat {
  return Number.isInteger(value) ? new PyFloat(value) : value;
}

/** True when `v` is a Python float in this value model. */
export function isPyFloatValue(v: unknown): v is number | PyFloat {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** The numeric value of a number, PyFloat or bigint (bigints may lose precision). */
export function toNumber(v: unknown): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number.NaN;
}

/**
 * A numpy array as HEROS sends it (CBOR tag 4242): raw bytes in C order (row-major) unless
 * `fortranOrder` is set, `dtype` spelled as numpy's `str(dtype)` (`"uint16"`, `"<U5"`, `"|S3"`,
 * `">f8"`, `"bool"`). Bytes without an explicit byte order are in the sender's native order,
 * little-endian on every platform HEROS runs on.
 */
export class NdArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Raw element bytes; a view into the received message, not a copy. */
  readonly data: Uint8Array;
  /** True when `data` is in Fortran (column-major) order. HEROS always sends C order. */
  readonly fortranOrder: boolean;
  constructor(dtype: string, shape: readonly number[], data: Uint8Array, fortranOrder = false) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.fortranOrder = fortranOrder;
  }
}

/** A Python `datetime` (CBOR tag 0 text or tag 1 epoch seconds), kept as sent. */
export class PyDateTime {
  /** ISO-8601 text as sent (tag 0), or formed from the epoch (tag 1). */
  readonly iso: string;
  /** Seconds since the Unix epoch; fractional. */
  readonly epochSeconds: number;
  constructor(iso: string, epochSeconds: number) {
    this.iso = iso;
    this.epochSeconds = epochSeconds;
  }
}

/** A reference to a HERO (tag 9000 `[realm, name]`). */
export class HeroRef {
  readonly realm: string;
  readonly name: string;
  constructor(realm: string, name: string) {
    this.realm = realm;
    this.name = name;
  }
}

/** Any other CBOR tag, kept with its number and decoded content. */
export class Tagged {
  readonly tag: number | bigint;
  readonly value: PyValue;
  constructor(tag: number | bigint, value: PyValue) {
    this.tag = tag;
    this.value = value;
  }
}

/** A decoded event value. */
export type PyValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | Uint8Array
  | NdArray
  | PyDateTime
  | HeroRef
  | Tagged
  | PyValue[]
  | Set<PyValue>
  | Map<PyValue, PyValue>
  | { [key: string]: PyValue };
