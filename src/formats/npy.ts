/**
 * `.npy` files byte-identical to `numpy.save` (numpy 2.x, `numpy/lib/_format_impl.py`).
 *
 *   NdArray (dtype as numpy's str(dtype), shape, raw bytes)
 *      │  npyDescr: "uint16" → '<u2', "[('a', '<i4')]" → [('a', '<i4')]   (cached)
 *      ▼
 *   npyHeader: magic + version + length + dict text padded to 64 bytes       (cached)
 *      ▼
 *   encodeNpy: [header, data]  ── the data chunk is the received bytes, never copied
 *
 * Byte order: a dtype spelled without an explicit order (`"uint16"`, `"float64"`) is in the
 * sender's native order, which is little-endian on every platform HEROS runs on, so it is
 * written as `'<u2'`, `'<f8'`. Explicit big-endian spellings (`">u2"`) are kept as they are,
 * exactly as numpy keeps them.
 */
import { ArchiverError, UnrecoverableError } from '../errors.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from '../heros/values.js';

// numpy/lib/_format_impl.py
const MAGIC_PREFIX = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // b'\x93NUMPY'
const MAGIC_LEN = MAGIC_PREFIX.length + 2;
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/** How a 1-d array's elements become the 0-d arrays numpy writes for its scalars. */
type ScalarRule =
  /** The scalar keeps the array's dtype (native numbers, bool, void, structured). */
  | { readonly kind: 'view' }
  /** Non-native numbers become native scalars: each `unit`-byte word is byte-swapped. */
  | { readonly kind: 'swap'; readonly unit: number; readonly dtype: string }
  /** `np.str_` drops trailing NULs; its array is `<U{len}` (at least 1), little-endian. */
  | { readonly kind: 'unicode'; readonly bigEndian: boolean }
  /** `np.bytes_` drops trailing NULs; its array is `|S{len}` (at least 1). */
  | { readonly kind: 'bytes' };

interface DtypeInfo {
  /** Python repr of the descr numpy writes in the header. */
  readonly descr: string;
  readonly itemSize: number;
  readonly scalar: ScalarRule;
  /**
   * Headers by order and shape. Kept per dtype so that a lookup never builds a key from the
   * dtype text, which for a wide struct is tens of kilobytes.
   */
  readonly headers: BoundedCache<Uint8Array>;
}

/** The descr as a Python value, repr'd once at the end. */
type DescrNode = string | number | DescrTuple | DescrNode[];
class DescrTuple {
  readonly items: readonly DescrNode[];
  constructor(items: readonly DescrNode[]) {
    this.items = items;
  }
}

interface ParsedDtype {
  readonly descr: DescrNode;
  readonly itemSize: number;
  /** numpy's `dtype.alignment`: where align=True places the type inside a struct. */
  readonly alignment: number;
  readonly scalar: ScalarRule;
}

/** A struct field's type; `shape` is set for sub-array fields (`('e', '<f8', (2, 3))`). */
interface FieldType extends ParsedDtype {
  readonly shape?: readonly number[];
}

/** A Map that forgets its least recently used entry beyond `max` entries. */
class BoundedCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  /** The key used last: already at the young end. */
  #last: string | undefined;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined && key !== this.#last) {
      // Re-insert so the hot keys (one per camera stream) stay at the young end; not when it
      // is there already (a stream of one shape), which would churn the Map's table per event.
      this.#map.delete(key);
      this.#map.set(key, v);
      this.#last = key;
    }
    return v;
  }
  set(key: string, value: V): void {
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
    this.#last = key;
  }
}

// At most 256 dtypes × 16 shapes; a process sees a handful of each.
const dtypeCache = new BoundedCache<DtypeInfo>(256);
const HEADERS_PER_DTYPE = 16;

/**
 * The `descr` numpy writes into an `.npy` header for a dtype, as Python source text.
 *
 * Accepts numpy's `str(dtype)` spellings as HEROS sends them — `"bool"`, `"int8"` … `"uint64"`,
 * `"float16"` … `"float128"`, `"complex64"` … `"complex256"`, `"datetime64[ns]"`,
 * `"timedelta64[s]"`, `"<U5"`, `"|S3"`, `"|V8"`, `">u2"`, `"<f8"` — and the str form of
 * structured dtypes (`"[('a', '<i4'), ('b', '<f8')]"`, nested lists, sub-array fields,
 * titles, and the `{'names': …, 'offsets': …}` form numpy prints for padded structs).
 * Spellings without a byte order are native, i.e. little-endian.
 *
 * @example npyDescr('uint16') === "'<u2'"; npyDescr('bool') === "'|b1'"
 * @throws {ArchiverError} `ARCHIVER_UNSUPPORTED_DTYPE` for unknown dtypes and dtypes numpy
 *   cannot write without pickling (`object`, `StringDType()`).
 */
export function npyDescr(dtype: string): string {
  return dtypeInfo(dtype).descr;
}

/**
 * Bytes per element of a dtype spelled as in {@link npyDescr}.
 * @throws {ArchiverError} `ARCHIVER_UNSUPPORTED_DTYPE` as {@link npyDescr}.
 */
export function itemSize(dtype: string): number {
  return dtypeInfo(dtype).itemSize;
}

/**
 * The `.npy` header `numpy.save` writes for an array of this dtype and shape: magic, format
 * version, header length and the dict text padded with spaces and a newline to a multiple of
 * 64 bytes, including numpy's spare room for growing the first (C) or last (Fortran) axis.
 * Version 1.0 unless the header exceeds 65535 bytes (2.0) or the descr holds characters
 * outside latin-1 (3.0, UTF-8), as numpy chooses.
 *
 * `fortranOrder` says how the data is laid out; numpy writes `'fortran_order': True` only when
 * the layout differs from C order, so for shapes where both agree (1-d, one non-unit axis,
 * zero elements) the header says `False`.
 *
 * Headers are cached by (dtype, shape, order); the returned bytes are shared and must not be
 * modified.
 *
 * @throws {ArchiverError} `ARCHIVER_UNSUPPORTED_DTYPE` for an unknown dtype.
 * @throws {UnrecoverableError} `ARCHIVER_PAYLOAD_MISMATCH` when a dimension is not a
 *   non-negative integer.
 */
export function npyHeader(dtype: string, shape: readonly number[], fortranOrder = false): Uint8Array {
  return headerFor(dtypeInfo(dtype), shape, fortranOrder);
}

/**
 * The bytes of an `.npy` file for `arr`, as `[header, data]` ready for `writev`; `data` is
 * `arr.data` itself, not a copy.
 *
 * @throws {ArchiverError} `ARCHIVER_UNSUPPORTED_DTYPE` for an unknown dtype.
 * @throws {UnrecoverableError} `ARCHIVER_PAYLOAD_MISMATCH` when the data length is not
 *   `prod(shape) * itemSize`.
 */
export function encodeNpy(arr: NdArray): Uint8Array[] {
  const info = dtypeInfo(arr.dtype);
  const header = headerFor(info, arr.shape, arr.fortranOrder);
  checkLength(arr, info.itemSize);
  return [header, arr.data];
}

/**
 * The sub-arrays along the first axis, as Python's `for row in arr` yields them, so that
 * encoding each gives the bytes of `numpy.save(row)`:
 * - rows of a C-order array are views of its data;
 * - a 1-d array yields 0-d arrays the way numpy saves its scalars: a non-native number
 *   becomes native (`>u2` → `uint16`, bytes swapped), a string becomes `<U{len}` / `|S{len}`
 *   without its trailing NULs (at least 1);
 * - rows of a Fortran-order array are strided in memory, which numpy writes in C order, so the
 *   data is reordered once (one copy); a single row is contiguous and stays Fortran-ordered.
 *
 * Where numpy's own output is undefined the bytes come from the input: the padding of a padded
 * struct in strided rows (numpy copies field by field and writes whatever its buffer held),
 * and the 6 padding bytes of an x87 `float128` / `complex256` scalar.
 *
 * @throws {UnrecoverableError} `ARCHIVER_PAYLOAD_MISMATCH` for a 0-d array (numpy: "iteration
 *   over a 0-d array") or a data length that does not match the shape.
 * @throws {ArchiverError} `ARCHIVER_UNSUPPORTED_DTYPE` for an unknown dtype.
 */
export function splitFirstAxis(arr: NdArray): NdArray[] {
  const info = dtypeInfo(arr.dtype);
  if (arr.shape.length === 0) {
    throw new UnrecoverableError('cannot split a 0-d array along its first axis (numpy: iteration over a 0-d array)');
  }
  checkShape(arr.shape);
  checkLength(arr, info.itemSize);
  const rows = arr.shape[0] ?? 0;
  const rest = arr.shape.slice(1);
  if (rest.length === 0) return splitScalars(arr, rows, info);

  let data = arr.data;
  if (arr.fortranOrder && !isCContiguous(arr.shape)) {
    if (rows === 1) return [new NdArray(arr.dtype, rest, data, true)];
    data = fortranToC(data, arr.shape, info.itemSize);
  }
  const rowBytes = elementCount(rest) * info.itemSize;
  const out: NdArray[] = new Array<NdArray>(rows);
  for (let i = 0; i < rows; i++) {
    out[i] = new NdArray(arr.dtype, rest, data.subarray(i * rowBytes, (i + 1) * rowBytes));
  }
  return out;
}

/**
 * The array `numpy.asarray(value)` makes, for the values `numpy.save` can write without
 * pickling: an {@link NdArray} is returned as is; a Python bool, int (number or bigint) or
 * float (number or {@link PyFloat}) and rectangular nested lists of them become `bool` (all
 * bools), `int64` (ints and bools), `uint64` (when an int only fits there), or `float64` (any
 * float, or ints mixing int64 and uint64, or an empty list); strings become `<U{longest}` and
 * bytes `|S{longest}` (at least 1).
 *
 * Anything numpy would store as an `object` array (None, dicts, ints beyond uint64) or would
 * coerce between kinds (strings mixed with numbers), lists of ndarrays (numpy stacks them and
 * changes their byte order), and ragged lists, are refused.
 *
 * @throws {UnrecoverableError} `ARCHIVER_PAYLOAD_MISMATCH` naming what was found.
 */
export function asNdArray(value: PyValue): NdArray {
  if (value instanceof NdArray) return value;
  const shape: number[] = [];
  for (let v: PyValue = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const leaves: PyValue[] = [];
  collectLeaves(value, shape, 0, leaves);
  return encodeLeaves(leaves, shape);
}

// ---------------------------------------------------------------------------------------------
// dtype spellings

function dtypeInfo(dtype: string): DtypeInfo {
  const cached = dtypeCache.get(dtype);
  if (cached !== undefined) return cached;
  let parsed: ParsedDtype;
  const first = dtype.trimStart()[0];
  if (first === '[' || first === '{') {
    let literal: PyLit;
    try {
      literal = new PyLiteralParser(dtype).parseAll();
    } catch (err) {
      throw unsupported(dtype, err instanceof Error ? err.message : String(err));
    }
    parsed = structured(literal, dtype, false);
  } else {
    parsed = simpleDtype(dtype);
  }
  const info: DtypeInfo = {
    descr: reprDescr(parsed.descr),
    itemSize: parsed.itemSize,
    scalar: parsed.scalar,
    headers: new BoundedCache<Uint8Array>(HEADERS_PER_DTYPE),
  };
  dtypeCache.set(dtype, info);
  return info;
}

function unsupported(dtype: string, why: string): ArchiverError {
  const shown = dtype.length > 80 ? `${dtype.slice(0, 77)}...` : dtype;
  return new ArchiverError('ARCHIVER_UNSUPPORTED_DTYPE', `dtype ${JSON.stringify(shown)} cannot be written as .npy: ${why}`);
}

const NAMED_DTYPE = /^(bool|int(8|16|32|64)|uint(8|16|32|64)|float(16|32|64|128)|complex(64|128|256))$/;
const NAMED_TIME = /^(datetime64|timedelta64)(?:\[(\d*)([A-Za-z]+)\])?$/;
const CODED_DTYPE = /^([<>|=]?)(?:(\?)|([biufcmMUSV])(\d+)(?:\[(\d*)([A-Za-z]+)\])?)$/;
const TIME_UNITS = new Set(['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as', 'generic']);
const NUMBER_SIZES: Record<string, readonly number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 16],
  c: [8, 16, 32],
  m: [8],
  M: [8],
};

/** A non-structured dtype spelled as numpy's str(dtype) or dtype.str. */
function simpleDtype(spelling: string): ParsedDtype {
  let order: string;
  let kind: string;
  let count: number;
  let unitText = '';
  let multiplier = '';
  const named = NAMED_DTYPE.exec(spelling);
  const time = named === null ? NAMED_TIME.exec(spelling) : null;
  if (named !== null) {
    order = '<';
    const bits = Number(/\d+$/.exec(spelling)?.[0] ?? 8);
    kind = spelling === 'bool' ? 'b' : spelling.startsWith('uint') ? 'u' : spelling[0] ?? '';
    count = kind === 'b' ? 1 : bits / 8;
  } else if (time !== null) {
    order = '<';
    kind = time[1] === 'datetime64' ? 'M' : 'm';
    count = 8;
    multiplier = time[2] ?? '';
    unitText = time[3] ?? '';
  } else {
    const coded = CODED_DTYPE.exec(spelling);
    if (coded === null) throw unsupported(spelling, 'not a numpy dtype spelling numpy can save without pickling');
    order = coded[1] === '>' ? '>' : '<';
    kind = coded[2] === '?' ? 'b' : (coded[3] ?? '');
    count = coded[2] === '?' ? 1 : Number(coded[4]);
    multiplier = coded[5] ?? '';
    unitText = coded[6] ?? '';
    if (unitText !== '' && kind !== 'M' && kind !== 'm') throw unsupported(spelling, 'only datetime64/timedelta64 take a unit');
  }

  if (kind === 'U' || kind === 'S' || kind === 'V') {
    if (!Number.isSafeInteger(count)) throw unsupported(spelling, 'length out of range');
    const descr = `${kind === 'U' ? order : '|'}${kind}${count}`;
    if (kind === 'U') return { descr, itemSize: 4 * count, alignment: 4, scalar: { kind: 'unicode', bigEndian: order === '>' } };
    return { descr, itemSize: count, alignment: 1, scalar: kind === 'S' ? { kind: 'bytes' } : { kind: 'view' } };
  }

  if (!(NUMBER_SIZES[kind] ?? []).includes(count)) throw unsupported(spelling, `no ${count}-byte variant of this kind`);
  let unitSuffix = '';
  if (kind === 'M' || kind === 'm') {
    if (unitText !== '' && !TIME_UNITS.has(unitText)) throw unsupported(spelling, `unknown time unit ${unitText}`);
    // numpy drops a multiplier of 1 and the generic unit from the spelling: M8[1ns] → <M8[ns].
    const mult = multiplier === '' || Number(multiplier) === 1 ? '' : String(Number(multiplier));
    if (unitText !== '' && unitText !== 'generic') unitSuffix = `[${mult}${unitText}]`;
  }
  const singleByte = kind === 'b' || count === 1;
  const byteOrder = singleByte ? '|' : order;
  const descr = `${byteOrder}${kind}${count}${unitSuffix}`;
  // Complex numbers align like their real and imaginary parts.
  const alignment = kind === 'c' ? count / 2 : count;
  if (byteOrder !== '>') return { descr, itemSize: count, alignment, scalar: { kind: 'view' } };
  return {
    descr,
    itemSize: count,
    alignment,
    scalar: { kind: 'swap', unit: kind === 'c' ? count / 2 : count, dtype: nativeName(kind, count, unitSuffix) },
  };
}

/** numpy's str(dtype) of the native-order twin of a big-endian number type. */
function nativeName(kind: string, size: number, unitSuffix: string): string {
  switch (kind) {
    case 'i':
      return `int${size * 8}`;
    case 'u':
      return `uint${size * 8}`;
    case 'f':
      return `float${size * 8}`;
    case 'c':
      return `complex${size * 8}`;
    case 'M':
      return `datetime64${unitSuffix}`;
    default:
      return `timedelta64${unitSuffix}`;
  }
}

/*
 * Structured dtypes. numpy prints a struct as a field list when its layout is the simple one
 * (fields back to back, or where align=True puts them) and as a `{'names': …}` dict otherwise;
 * the top level of an aligned struct is always a dict with `'aligned': True`. A list nested in a
 * struct does not say whether it is packed or aligned, so a list inherits alignment from the
 * struct it came from (as `np.dtype(…, align=True)` builds them); inside a dict the offsets
 * decide.
 */

/** A structured dtype from its str form: a field list or numpy's `{'names': …}` dict. */
function structured(node: PyLit, dtype: string, aligned: boolean): ParsedDtype {
  if (node instanceof PyLitList) return structFromList(node, dtype, aligned);
  if (node instanceof PyLitDict) return structFromDict(node, dtype);
  throw unsupported(dtype, 'a structured dtype must be a list of fields or a names/formats dict');
}

/** One field's dtype inside a struct: a spelling, a nested struct, or (base, shape). */
function fieldDtype(node: PyLit, dtype: string, aligned: boolean): FieldType {
  if (typeof node === 'string') return simpleDtype(node);
  if (node instanceof PyLitTuple && node.items.length === 2) {
    const [base, shape] = node.items;
    return subArray(fieldDtype(base ?? null, dtype, aligned), shape ?? null, dtype);
  }
  return structured(node, dtype, aligned);
}

/** The readings of a field format inside a dict: a nested list may be aligned or packed. */
function fieldOptions(node: PyLit, dtype: string): FieldType[] {
  const nestsList = node instanceof PyLitList || (node instanceof PyLitTuple && node.items[0] instanceof PyLitList);
  if (!nestsList) return [fieldDtype(node, dtype, false)];
  const alignedReading = fieldDtype(node, dtype, true);
  const packedReading = fieldDtype(node, dtype, false);
  const same = alignedReading.itemSize === packedReading.itemSize && reprDescr(alignedReading.descr) === reprDescr(packedReading.descr);
  return same ? [packedReading] : [alignedReading, packedReading];
}

/** A sub-array field type; its descr is the pair (base descr, shape) spliced into the field. */
function subArray(base: FieldType, shapeNode: PyLit, dtype: string): FieldType {
  const shape = typeof shapeNode === 'number' ? [shapeNode] : shapeNode instanceof PyLitTuple ? shapeNode.items : null;
  if (shape === null || !shape.every((d): d is number => typeof d === 'number' && d >= 0)) {
    throw unsupported(dtype, 'a sub-array shape must be a tuple of non-negative ints');
  }
  if (shape.length === 0) return base;
  return { ...base, itemSize: base.itemSize * elementCount(shape), shape };
}

function fieldDescr(name: DescrNode, type: FieldType): DescrTuple {
  return new DescrTuple(type.shape === undefined ? [name, type.descr] : [name, type.descr, new DescrTuple(type.shape)]);
}

function padding(bytes: number): DescrTuple {
  return new DescrTuple(['', `|V${bytes}`]);
}

function roundUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function fieldName(node: PyLit, dtype: string, seen: Set<string>): DescrNode {
  let name: PyLit = node;
  let title: PyLit = null;
  if (node instanceof PyLitTuple && node.items.length === 2) [title, name] = node.items as [PyLit, PyLit];
  if (typeof name !== 'string' || (title !== null && typeof title !== 'string')) {
    throw unsupported(dtype, 'field names and titles must be strings');
  }
  if (seen.has(name)) throw unsupported(dtype, `duplicate field name ${JSON.stringify(name)}`);
  seen.add(name);
  return title === null ? name : new DescrTuple([title, name]);
}

/** Fields back to back, or at the offsets align=True gives them (C struct rules). */
function structFromList(list: PyLitList, dtype: string, aligned: boolean): ParsedDtype {
  const descr: DescrNode[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let maxAlignment = 1;
  for (const field of list.items) {
    if (!(field instanceof PyLitTuple) || field.items.length < 2 || field.items.length > 3) {
      throw unsupported(dtype, 'each field must be (name, format) or (name, format, shape)');
    }
    const [nameNode, formatNode, shapeNode] = field.items;
    const name = fieldName(nameNode ?? null, dtype, seen);
    let type = fieldDtype(formatNode ?? null, dtype, aligned);
    if (shapeNode !== undefined) type = subArray(type, shapeNode, dtype);
    if (aligned) {
      const at = roundUp(offset, type.alignment);
      if (at > offset) descr.push(padding(at - offset));
      offset = at;
      maxAlignment = Math.max(maxAlignment, type.alignment);
    }
    descr.push(fieldDescr(name, type));
    offset += type.itemSize;
  }
  const total = aligned ? roundUp(offset, maxAlignment) : offset;
  if (total > offset) descr.push(padding(total - offset));
  return { descr, itemSize: total, alignment: aligned ? maxAlignment : 1, scalar: { kind: 'view' } };
}

const DICT_KEYS = new Set(['names', 'formats', 'offsets', 'titles', 'itemsize', 'aligned']);

/** numpy's `_array_descr`: fields in `names` order, gaps and the tail filled with `('', '|V{n}')`. */
function structFromDict(dict: PyLitDict, dtype: string): ParsedDtype {
  const get = (key: string): PyLit | undefined => dict.entries.find(([k]) => k === key)?.[1];
  for (const [k] of dict.entries) {
    if (typeof k !== 'string' || !DICT_KEYS.has(k)) throw unsupported(dtype, `unexpected key ${String(k)} in a struct dict`);
  }
  const names = get('names');
  const formats = get('formats');
  const offsets = get('offsets');
  const titles = get('titles');
  const total = get('itemsize');
  const aligned = get('aligned') === true;
  const n = names instanceof PyLitList ? names.items.length : -1;
  if (
    !(names instanceof PyLitList) ||
    !(formats instanceof PyLitList) ||
    formats.items.length !== n ||
    !(offsets instanceof PyLitList) ||
    offsets.items.length !== n ||
    !offsets.items.every((o): o is number => typeof o === 'number') ||
    (titles !== undefined && !(titles instanceof PyLitList && titles.items.length === n)) ||
    typeof total !== 'number'
  ) {
    throw unsupported(dtype, 'a struct dict needs names, formats and int offsets of one length, and an itemsize');
  }
  const at = offsets.items as number[];
  const descr: DescrNode[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let maxAlignment = 1;
  for (let i = 0; i < n; i++) {
    const start = at[i]!;
    if (start < offset) throw unsupported(dtype, 'overlapping or out-of-order fields have no descr (numpy cannot save them)');
    const title = titles instanceof PyLitList ? (titles.items[i] ?? null) : null;
    const rawName = names.items[i] ?? null;
    const name = fieldName(title === null ? rawName : new PyLitTuple([title, rawName]), dtype, seen);
    const bound = at[i + 1] ?? total;
    const prevEnd = offset;
    const fits = (t: FieldType): boolean => start + t.itemSize <= bound && (!aligned || start === roundUp(prevEnd, t.alignment));
    const options = fieldOptions(formats.items[i] ?? null, dtype);
    const valid = options.length === 1 ? options : options.filter(fits);
    // An aligned parent was most likely built with align=True, which aligns nested lists too.
    if (valid.length === 0 || (valid.length > 1 && !aligned)) {
      throw unsupported(dtype, `cannot tell whether nested struct ${JSON.stringify(rawName)} is packed or aligned`);
    }
    const type = valid[0]!;
    if (start > offset) descr.push(padding(start - offset));
    descr.push(fieldDescr(name, type));
    offset = start + type.itemSize;
    maxAlignment = Math.max(maxAlignment, type.alignment);
  }
  if (total < offset) throw unsupported(dtype, `itemsize ${total} is smaller than its fields`);
  if (total > offset) descr.push(padding(total - offset));
  return { descr, itemSize: total, alignment: aligned ? maxAlignment : 1, scalar: { kind: 'view' } };
}

function reprDescr(node: DescrNode): string {
  if (typeof node === 'string') return pyStrRepr(node);
  if (typeof node === 'number') return String(node);
  if (node instanceof DescrTuple) {
    const items = node.items.map(reprDescr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  return `[${node.map(reprDescr).join(', ')}]`;
}

// Characters Python's str.isprintable() rejects: categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs.
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python's `repr(str)`, which numpy uses for field names in the header. */
function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// A parser for the Python literals in a structured dtype's str form

type PyLit = string | number | boolean | null | PyLitList | PyLitTuple | PyLitDict;
class PyLitList {
  readonly items: PyLit[];
  constructor(items: PyLit[]) {
    this.items = items;
  }
}
class PyLitTuple {
  readonly items: PyLit[];
  constructor(items: PyLit[]) {
    this.items = items;
  }
}
class PyLitDict {
  readonly entries: [PyLit, PyLit][];
  constructor(entries: [PyLit, PyLit][]) {
    this.entries = entries;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

class PyLiteralParser {
  readonly #text: string;
  #pos = 0;
  constructor(text: string) {
    this.#text = text;
  }

  parseAll(): PyLit {
    const value = this.#value();
    this.#skipSpace();
    if (this.#pos !== this.#text.length) this.#fail('unexpected text');
    return value;
  }

  #fail(what: string): never {
    throw new Error(`${what} at offset ${this.#pos}`);
  }

  #skipSpace(): void {
    while (this.#pos < this.#text.length && /\s/.test(this.#text[this.#pos] ?? '')) this.#pos++;
  }

  #value(): PyLit {
    this.#skipSpace();
    const ch = this.#text[this.#pos];
    if (ch === '[') return new PyLitList(this.#sequence(']'));
    if (ch === '(') {
      const start = this.#pos;
      const items = this.#sequence(')');
      // "(x)" is a parenthesised value, "(x,)" a tuple.
      const hadComma = this.#text.slice(start, this.#pos).trimEnd().slice(0, -1).trimEnd().endsWith(',');
      return items.length === 1 && !hadComma ? (items[0] ?? null) : new PyLitTuple(items);
    }
    if (ch === '{') return this.#dict();
    if (ch === "'" || ch === '"') return this.#string(ch);
    const word = /^(-?\d+|True|False|None)/.exec(this.#text.slice(this.#pos, this.#pos + 32));
    if (word === null) this.#fail('expected a value');
    this.#pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    const n = Number(word[0]);
    if (!Number.isSafeInteger(n)) this.#fail('integer out of range');
    return n;
  }

  #sequence(close: string): PyLit[] {
    this.#pos++;
    const items: PyLit[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] === close) break;
      items.push(this.#value());
      this.#skipSpace();
      if (this.#text[this.#pos] === ',') this.#pos++;
      else if (this.#text[this.#pos] !== close) this.#fail(`expected , or ${close}`);
    }
    this.#pos++;
    return items;
  }

  #dict(): PyLitDict {
    this.#pos++;
    const entries: [PyLit, PyLit][] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] === '}') break;
      const key = this.#value();
      this.#skipSpace();
      if (this.#text[this.#pos] !== ':') this.#fail('expected :');
      this.#pos++;
      entries.push([key, this.#value()]);
      this.#skipSpace();
      if (this.#text[this.#pos] === ',') this.#pos++;
      else if (this.#text[this.#pos] !== '}') this.#fail('expected , or }');
    }
    this.#pos++;
    return new PyLitDict(entries);
  }

  #string(quote: string): string {
    const text = this.#text;
    let out = '';
    let i = this.#pos + 1;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) this.#fail('unterminated string');
      if (ch === quote) break;
      if (ch !== '\\') {
        out += ch;
        i++;
        continue;
      }
      const esc = text[i + 1] ?? '';
      const width = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
      if (width > 0) {
        const digits = text.slice(i + 2, i + 2 + width);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== width) this.#fail('bad escape');
        const cp = parseInt(digits, 16);
        if (cp > 0x10ffff) this.#fail('bad escape');
        out += String.fromCodePoint(cp);
        i += 2 + width;
      } else {
        const plain = SIMPLE_ESCAPES[esc];
        if (plain === undefined) this.#fail('unsupported escape');
        out += plain;
        i += 2;
      }
    }
    this.#pos = i + 1;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Header

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new UnrecoverableError(`array shape (${shape.join(', ')}) has a dimension that is not a non-negative integer`);
    }
  }
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkLength(arr: NdArray, size: number): void {
  const expected = elementCount(arr.shape) * size;
  if (arr.data.byteLength !== expected) {
    throw new UnrecoverableError(
      `ndarray data is ${arr.data.byteLength} bytes, expected ${expected} for dtype ${arr.dtype} and shape (${arr.shape.join(', ')})`,
    );
  }
}

/** numpy's C_CONTIGUOUS flag for a Fortran-ordered array: axes of length 1 do not count. */
function isCContiguous(shape: readonly number[]): boolean {
  let longAxes = 0;
  for (const d of shape) {
    if (d === 0) return true;
    if (d !== 1) longAxes++;
  }
  return longAxes <= 1;
}

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function headerFor(info: DtypeInfo, shape: readonly number[], fortranOrder: boolean): Uint8Array {
  checkShape(shape);
  const fortran = fortranOrder && !isCContiguous(shape);
  const key = `${fortran ? 'F' : 'C'}${shape.join(',')}`;
  const cached = info.headers.get(key);
  if (cached !== undefined) return cached;
  const header = buildHeader(info.descr, shape, fortran);
  info.headers.set(key, header);
  return header;
}

function buildHeader(descr: string, shape: readonly number[], fortran: boolean): Uint8Array {
  let text = `{'descr': ${descr}, 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) {
    // Room to grow the outer axis in place (_write_array_header).
    const grow = shape[fortran ? shape.length - 1 : 0] ?? 0;
    text += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(grow).length));
  }
  // _wrap_header_guess_version: 1.0, else 2.0 when too long; 3.0 (UTF-8) only when latin-1
  // cannot encode the text, whatever its length.
  const latin1 = !/[^\x00-\xff]/.test(text);
  const bytes = Buffer.from(text, latin1 ? 'latin1' : 'utf8');
  const hlen = bytes.length + 1;
  const padFor = (lenSize: number): number => ARRAY_ALIGN - ((MAGIC_LEN + lenSize + hlen) % ARRAY_ALIGN);
  let major = 3;
  let lenSize = 4;
  if (latin1) {
    major = hlen + padFor(2) <= 0xffff ? 1 : 2;
    lenSize = major === 1 ? 2 : 4;
  }
  const pad = padFor(lenSize);
  const out = new Uint8Array(MAGIC_LEN + lenSize + hlen + pad);
  out.set(MAGIC_PREFIX, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lenSize === 2) view.setUint16(MAGIC_LEN, hlen + pad, true);
  else view.setUint32(MAGIC_LEN, hlen + pad, true);
  const start = MAGIC_LEN + lenSize;
  out.set(bytes, start);
  out.fill(0x20, start + bytes.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Splitting

const SCALAR_SHAPE: readonly number[] = Object.freeze([]);

function splitScalars(arr: NdArray, count: number, info: DtypeInfo): NdArray[] {
  const size = info.itemSize;
  const rule = info.scalar;
  const out: NdArray[] = new Array<NdArray>(count);
  for (let i = 0; i < count; i++) {
    const item = arr.data.subarray(i * size, (i + 1) * size);
    out[i] = scalarArray(arr.dtype, item, rule);
  }
  return out;
}

function scalarArray(dtype: string, item: Uint8Array, rule: ScalarRule): NdArray {
  switch (rule.kind) {
    case 'view':
      return new NdArray(dtype, SCALAR_SHAPE, item);
    case 'swap':
      return new NdArray(rule.dtype, SCALAR_SHAPE, byteSwapped(item, rule.unit));
    case 'bytes': {
      let len = item.length;
      while (len > 0 && item[len - 1] === 0) len--;
      const data = len > 0 ? item.subarray(0, len) : item.length > 0 ? item.subarray(0, 1) : new Uint8Array(1);
      return new NdArray(`|S${Math.max(len, 1)}`, SCALAR_SHAPE, data);
    }
    case 'unicode': {
      let chars = item.length / 4;
      while (chars > 0 && (item[chars * 4 - 1]! | item[chars * 4 - 2]! | item[chars * 4 - 3]! | item[chars * 4 - 4]!) === 0) {
        chars--;
      }
      const len = Math.max(chars, 1);
      let data: Uint8Array;
      if (item.length < 4) data = new Uint8Array(4);
      else if (rule.bigEndian) data = byteSwapped(item.subarray(0, len * 4), 4);
      else data = item.subarray(0, len * 4);
      return new NdArray(`<U${len}`, SCALAR_SHAPE, data);
    }
  }
}

function byteSwapped(src: Uint8Array, unit: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let w = 0; w < src.length; w += unit) {
    for (let b = 0; b < unit; b++) out[w + b] = src[w + unit - 1 - b]!;
  }
  return out;
}

/** Reorders Fortran-ordered data into C order (one pass, one new buffer). */
function fortranToC(data: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const ndim = shape.length;
  const count = elementCount(shape);
  const out = new Uint8Array(count * size);
  if (count === 0) return out;
  const strides: number[] = [];
  let stride = size;
  for (const d of shape) {
    strides.push(stride);
    stride *= d;
  }
  const last = ndim - 1;
  const inner = shape[last]!;
  const innerStride = strides[last]!;
  const index = new Array<number>(ndim).fill(0);
  let src = 0;
  let dst = 0;
  for (let n = 0; n < count; n += inner) {
    let p = src;
    for (let j = 0; j < inner; j++, p += innerStride) {
      for (let b = 0; b < size; b++) out[dst++] = data[p + b]!;
    }
    // Advance the C-order odometer over the outer axes.
    for (let k = last - 1; k >= 0; k--) {
      index[k]!++;
      src += strides[k]!;
      if (index[k]! < shape[k]!) break;
      src -= strides[k]! * shape[k]!;
      index[k] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// numpy.asarray of Python values

function describe(value: PyValue): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return 'a bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an int' : 'a float';
  if (typeof value === 'bigint') return 'an int';
  if (typeof value === 'string') return 'a str';
  if (value instanceof PyFloat) return 'a float';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof NdArray) return `an ndarray (${value.dtype}) inside a list`;
  if (value instanceof PyDateTime) return 'a datetime';
  if (value instanceof HeroRef) return 'a HERO reference';
  if (value instanceof Tagged) return `a CBOR tag ${value.tag}`;
  if (value instanceof Set) return 'a set';
  return 'a dict';
}

function collectLeaves(value: PyValue, shape: readonly number[], depth: number, leaves: PyValue[]): void {
  if (depth === shape.length) {
    if (Array.isArray(value)) {
      throw new UnrecoverableError(`ragged nested list: a list at depth ${depth} where the first branch has a scalar (shape ${shapeRepr(shape)})`);
    }
    leaves.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new UnrecoverableError(`ragged nested list: expected a list of ${shape[depth]} at depth ${depth}, found ${describe(value)}`);
  }
  for (const item of value) collectLeaves(item, shape, depth + 1, leaves);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function encodeLeaves(leaves: PyValue[], shape: readonly number[]): NdArray {
  let bools = 0;
  let signed = 0;
  let unsigned = 0;
  let floats = 0;
  let strings = 0;
  let bytes = 0;
  let longest = 0;
  for (const leaf of leaves) {
    if (typeof leaf === 'boolean') bools++;
    else if (typeof leaf === 'number') {
      if (Number.isInteger(leaf)) signed++;
      else floats++;
    } else if (leaf instanceof PyFloat) floats++;
    else if (typeof leaf === 'bigint') {
      if (leaf >= INT64_MIN && leaf <= INT64_MAX) signed++;
      else if (leaf > INT64_MAX && leaf <= UINT64_MAX) unsigned++;
      else throw new UnrecoverableError(`the int ${leaf} does not fit int64 or uint64 (numpy would make an object array)`);
    } else if (typeof leaf === 'string') {
      strings++;
      longest = Math.max(longest, codePointCount(leaf));
    } else if (leaf instanceof Uint8Array) {
      bytes++;
      longest = Math.max(longest, leaf.length);
    } else {
      throw new UnrecoverableError(`cannot make a numeric or string array of ${describe(leaf)} (numpy would make an object array)`);
    }
  }
  const n = leaves.length;
  if ((strings > 0 && strings < n) || (bytes > 0 && bytes < n)) {
    throw new UnrecoverableError('cannot make an array of strings or bytes mixed with other values (numpy would convert them to text)');
  }
  if (strings > 0) {
    const len = Math.max(longest, 1);
    const data = new Uint8Array(n * len * 4);
    const view = new DataView(data.buffer);
    leaves.forEach((leaf, i) => {
      let at = i * len * 4;
      for (const ch of leaf as string) {
        view.setUint32(at, ch.codePointAt(0) ?? 0, true);
        at += 4;
      }
    });
    return new NdArray(`<U${len}`, shape, data);
  }
  if (bytes > 0) {
    const len = Math.max(longest, 1);
    const data = new Uint8Array(n * len);
    leaves.forEach((leaf, i) => data.set(leaf as Uint8Array, i * len));
    return new NdArray(`|S${len}`, shape, data);
  }
  if (n > 0 && bools === n) {
    return new NdArray('bool', shape, Uint8Array.from(leaves, (b) => (b === true ? 1 : 0)));
  }
  const data = new Uint8Array(n * 8);
  const view = new DataView(data.buffer);
  // int64 and uint64 have no common integer type: numpy promotes them to float64.
  if (floats > 0 || n === 0 || (signed > 0 && unsigned > 0)) {
    leaves.forEach((leaf, i) => view.setFloat64(i * 8, numericValue(leaf), true));
    return new NdArray('float64', shape, data);
  }
  if (unsigned > 0) {
    leaves.forEach((leaf, i) => view.setBigUint64(i * 8, integerValue(leaf), true));
    return new NdArray('uint64', shape, data);
  }
  leaves.forEach((leaf, i) => view.setBigInt64(i * 8, integerValue(leaf), true));
  return new NdArray('int64', shape, data);
}

function numericValue(leaf: PyValue): number {
  if (typeof leaf === 'boolean') return leaf ? 1 : 0;
  if (leaf instanceof PyFloat) return leaf.value;
  // Number(bigint) rounds half to even, as Python's float(int) does.
  return Number(leaf);
}

function integerValue(leaf: PyValue): bigint {
  if (typeof leaf === 'boolean') return leaf ? 1n : 0n;
  if (typeof leaf === 'bigint') return leaf;
  return BigInt(leaf as number);
}

function codePointCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
