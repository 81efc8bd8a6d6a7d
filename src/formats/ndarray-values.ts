/**
 * Turns an {@link NdArray} into plain values, element for element what numpy's `arr.tolist()`
 * gives in Python, so that a JSON archive of an array reads back like `json.dumps(a.tolist())`.
 *
 * | dtype (numpy `str(dtype)`)                    | element value                              |
 * |-----------------------------------------------|--------------------------------------------|
 * | `bool`, `?b1`                                 | `boolean` (any non-zero byte is `true`)    |
 * | `int8`…`int32`, `uint8`…`uint32`, `?i1`…`?u4` | `number`                                   |
 * | `int64`, `uint64`, `?i8`, `?u8`               | `number`, or `bigint` beyond 2^53          |
 * | `float16`, `float32`, `float64`, `?f2`…`?f8`  | {@link pyFloat} of the value widened to a  |
 * |                                               | double, as numpy's `tolist()` widens it    |
 * | `complex64`, `complex128`, `?c8`, `?c16`      | `[re, im]`, two floats as above (there is  |
 * |                                               | no complex in the value model)             |
 * | `<Un`, `>Un`                                  | `string` from UCS-4, trailing NULs removed |
 * | `\|Sn`                                        | `Uint8Array` (a copy), trailing NULs removed |
 *
 * `?` is a byte-order character: `<` little, `>` big, `=` or none native (little-endian on
 * every platform HEROS runs on), `|` not applicable. Shapes nest as lists in C (row-major)
 * order whatever the memory order; a 0-d array gives its single element.
 */
import { ArchiverError, UnrecoverableError } from '../errors.js';
import { type NdArray, pyFloat, type PyValue } from '../heros/values.js';

/** Reads one element at a byte offset. */
type ElementReader = (view: DataView, offset: number) => PyValue;

interface ElementType {
  readonly itemSize: number;
  readonly read: ElementReader;
}

/** numpy's names for native-order dtypes, as their array-interface type strings. */
const NAMED_DTYPES: Readonly<Record<string, string>> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  complex64: '<c8',
  complex128: '<c16',
};

const TYPESTR = /^([<>|=]?)([biufcUS])(\d+)$/;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** A Python int from a 64-bit read: a number when it is exact, otherwise the bigint. */
function intFromBig(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** IEEE-754 binary16 to double; exact, since every half is representable as a double. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

function unsupported(dtype: string, why: string): ArchiverError {
  return new ArchiverError('ARCHIVER_UNSUPPORTED_DTYPE', `ndarray dtype ${JSON.stringify(dtype)}: ${why}`);
}

/** Parses a numpy `str(dtype)` into its item size and an element reader. */
function elementType(dtype: string): ElementType {
  const typestr = NAMED_DTYPES[dtype] ?? dtype;
  const m = TYPESTR.exec(typestr);
  if (m === null) throw unsupported(dtype, 'not a bool, integer, float, complex, unicode or bytes dtype');
  const order = m[1] ?? '';
  const kind = m[2] ?? '';
  const size = Number(m[3]);
  const le = order !== '>';
  // '|' means "byte order does not apply", which is only true of one-byte items and bytes.
  if (order === '|' && size > 1 && kind !== 'S') throw unsupported(dtype, "'|' byte order on a multi-byte type");
  switch (`${kind}${size}`) {
    case 'b1':
      return { itemSize: 1, read: (v, o) => v.getUint8(o) !== 0 };
    case 'i1':
      return { itemSize: 1, read: (v, o) => v.getInt8(o) };
    case 'u1':
      return { itemSize: 1, read: (v, o) => v.getUint8(o) };
    case 'i2':
      return { itemSize: 2, read: (v, o) => v.getInt16(o, le) };
    case 'u2':
      return { itemSize: 2, read: (v, o) => v.getUint16(o, le) };
    case 'i4':
      return { itemSize: 4, read: (v, o) => v.getInt32(o, le) };
    case 'u4':
      return { itemSize: 4, read: (v, o) => v.getUint32(o, le) };
    case 'i8':
      return { itemSize: 8, read: (v, o) => intFromBig(v.getBigInt64(o, le)) };
    case 'u8':
      return { itemSize: 8, read: (v, o) => intFromBig(v.getBigUint64(o, le)) };
    case 'f2':
      return { itemSize: 2, read: (v, o) => pyFloat(halfToNumber(v.getUint16(o, le))) };
    case 'f4':
      return { itemSize: 4, read: (v, o) => pyFloat(v.getFloat32(o, le)) };
    case 'f8':
      return { itemSize: 8, read: (v, o) => pyFloat(v.getFloat64(o, le)) };
    case 'c8':
      return { itemSize: 8, read: (v, o) => [pyFloat(v.getFloat32(o, le)), pyFloat(v.getFloat32(o + 4, le))] };
    case 'c16':
      return { itemSize: 16, read: (v, o) => [pyFloat(v.getFloat64(o, le)), pyFloat(v.getFloat64(o + 8, le))] };
    default:
      break;
  }
  if (kind === 'U') {
    if (order === '|') throw unsupported(dtype, "'|' byte order on a unicode type");
    return { itemSize: 4 * size, read: (v, o) => readUcs4(v, o, size, le) };
  }
  if (kind === 'S') return { itemSize: size, read: (v, o) => readBytes(v, o, size) };
  throw unsupported(dtype, `no ${size}-byte ${kind} type`);
}

/** A UCS-4 string of `chars` code points; numpy drops trailing NULs, keeps inner ones. */
function readUcs4(view: DataView, offset: number, chars: number, le: boolean): string {
  let end = chars;
  while (end > 0 && view.getUint32(offset + 4 * (end - 1), le) === 0) end--;
  let out = '';
  for (let i = 0; i < end; i++) {
    const cp = view.getUint32(offset + 4 * i, le);
    if (cp > 0x10ffff) {
      throw new UnrecoverableError(`ndarray unicode element holds code point 0x${cp.toString(16)}, beyond U+10FFFF`);
    }
    // fromCodePoint keeps lone surrogates as lone UTF-16 units, as a Python str keeps them.
    out += cp < 0x10000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return out;
}

/** A `bytes` element; numpy drops trailing NULs. Copied so it outlives the message buffer. */
function readBytes(view: DataView, offset: number, size: number): Uint8Array {
  const start = view.byteOffset + offset;
  const bytes = new Uint8Array(view.buffer, start, size);
  let end = size;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.slice(0, end);
}

/**
 * The array's elements as nested lists, like numpy's `arr.tolist()` (see the table at the top
 * of this module for each dtype). A 0-d array gives its single element.
 *
 * @throws ArchiverError `ARCHIVER_UNSUPPORTED_DTYPE` for a dtype outside the table.
 * @throws UnrecoverableError `ARCHIVER_PAYLOAD_MISMATCH` when the shape is invalid, the data
 *   length is not the shape's element count times the item size, or a unicode element holds a
 *   value that is not a code point.
 */
export function ndarrayToPy(arr: NdArray): PyValue {
  const type = elementType(arr.dtype);
  const shape = arr.shape;
  const ndim = shape.length;
  let count = 1;
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new UnrecoverableError(`ndarray shape [${shape.join(', ')}] is not a list of non-negative integers`);
    }
    count *= n;
  }
  const expected = count * type.itemSize;
  if (arr.data.byteLength !== expected) {
    throw new UnrecoverableError(
      `ndarray ${arr.dtype} of shape [${shape.join(', ')}] needs ${expected} bytes, got ${arr.data.byteLength}`,
    );
  }
  const view = new DataView(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  if (ndim === 0) return type.read(view, 0);

  // Byte strides of each axis in memory order; the lists are always built in C order.
  const strides = new Array<number>(ndim);
  let stride = type.itemSize;
  if (arr.fortranOrder) {
    for (let d = 0; d < ndim; d++) {
      strides[d] = stride;
      stride *= shape[d] ?? 0;
    }
  } else {
    for (let d = ndim - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= shape[d] ?? 0;
    }
  }
  const read = type.read;
  const last = ndim - 1;
  // Recursion depth is the number of axes, which numpy caps at 64.
  const build = (d: number, offset: number): PyValue[] => {
    const n = shape[d] ?? 0;
    const step = strides[d] ?? 0;
    const out = new Array<PyValue>(n);
    if (d === last) {
      for (let i = 0; i < n; i++) out[i] = read(view, offset + i * step);
    } else {
      for (let i = 0; i < n; i++) out[i] = build(d + 1, offset + i * step);
    }
    return out;
  };
  return build(0, 0);
}
