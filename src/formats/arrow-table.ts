/**
 * Rows of HEROS values as Arrow record batches: the column kinds ArrowArchiver writes, how a
 * kind is inferred from a Python value, whether a value fits a kind (and how a kind widens),
 * and the conversion of buffered rows into one RecordBatch.
 *
 * | Python value              | kind          | Arrow type                                |
 * |---------------------------|---------------|-------------------------------------------|
 * | `int` (number, bigint)    | `int64`       | Int64                                     |
 * | `float` (number, PyFloat) | `float64`     | Float64                                   |
 * | `bool`                    | `bool`        | Bool                                      |
 * | `str`                     | `utf8`        | Utf8                                      |
 * | `bytes`                   | `binary`      | Binary                                    |
 * | `None`                    | `null`        | Null (every column is nullable)           |
 * | 1-d `ndarray` of n items  | `<dtype>[n]`  | FixedSizeList<n> of the dtype's type      |
 *
 * A kind is a short string so that schemas can be declared in a manifest
 * (`{"temperature": "float64", "frame": "uint16[640]"}`) and compared cheaply.
 */
import {
  Binary,
  Bool,
  type Data,
  type DataType,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  makeBuilder,
  makeData,
  Null,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  TimestampMillisecond,
  Type,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
} from 'apache-arrow';
import { NdArray, PyFloat, type PyValue } from '../heros/values.js';

/** Element kinds an ndarray column may have. */
const ELEMENT_KINDS = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64'] as const;
type ElementKind = (typeof ELEMENT_KINDS)[number];

/** Scalar kinds. */
const SCALAR_KINDS = [...ELEMENT_KINDS, 'utf8', 'binary', 'null'] as const;

/** The two columns every ArrowArchiver file starts with. */
export const SOURCE_COLUMN = 'source';
export const RECEIVED_AT_COLUMN = 'received_at';
/** The column holding the rendered `unique_key` (only when the option is set). */
export const KEY_COLUMN = '_key';

/** One data column: its name and kind (`int64`, `utf8`, `float32[3]`, …). */
export interface ColumnSpec {
  readonly name: string;
  readonly kind: string;
}

/** Why a value does not fit a column; the archiver turns it into a dead-letter code. */
export class MisfitError extends Error {
  override readonly name = 'MisfitError';
}

const KIND_RE = /^([a-z0-9]+)(?:\[(\d+)\])?$/;

/** Accepts manifest spellings (`string`, `str`, `int`, `float`, `double`, `bytes`) too. */
const ALIASES: Readonly<Record<string, string>> = { string: 'utf8', str: 'utf8', int: 'int64', float: 'float64', double: 'float64', bytes: 'binary', boolean: 'bool' };

/** Normalises a declared kind, or returns undefined when it is not one. */
export function parseKind(text: string): string | undefined {
  const m = KIND_RE.exec(text.trim().toLowerCase());
  if (m === null) return undefined;
  const base = ALIASES[m[1]!] ?? m[1]!;
  if (m[2] !== undefined) {
    const n = Number(m[2]);
    return (ELEMENT_KINDS as readonly string[]).includes(base) && n > 0 ? `${base}[${n}]` : undefined;
  }
  return (SCALAR_KINDS as readonly string[]).includes(base) ? base : undefined;
}

/** numpy `str(dtype)` → element kind, for little-endian / native dtypes only. */
function ndarrayElementKind(dtype: string): ElementKind | undefined {
  if ((ELEMENT_KINDS as readonly string[]).includes(dtype)) return dtype as ElementKind;
  const m = /^([<|=]?)([biuf])(\d)$/.exec(dtype);
  if (m === null) return undefined;
  const size = Number(m[3]);
  if (m[2] === 'b') return size === 1 ? 'bool' : undefined;
  const kind = `${m[2] === 'i' ? 'int' : m[2] === 'u' ? 'uint' : 'float'}${size * 8}`;
  return (ELEMENT_KINDS as readonly string[]).includes(kind) ? (kind as ElementKind) : undefined;
}

/** The kind a value would get as the first value of a column; throws MisfitError if none. */
export function inferKind(v: PyValue): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (v instanceof PyFloat) return 'float64';
  if (typeof v === 'string') return 'utf8';
  if (v instanceof Uint8Array) return 'binary';
  if (v instanceof NdArray) {
    const el = ndarrayElementKind(v.dtype);
    if (v.shape.length !== 1) throw new MisfitError(`an ndarray of shape (${v.shape.join(', ')}) is not a column value: only 1-d arrays are`);
    if (el === undefined) throw new MisfitError(`ndarray dtype ${JSON.stringify(v.dtype)} has no column kind (little-endian bool, int, uint, float32/64 only)`);
    return `${el}[${v.shape[0]}]`;
  }
  throw new MisfitError(`a ${describe(v)} is not a column value (int, float, bool, str, bytes, None or a 1-d ndarray)`);
}

/**
 * The kind a column must widen to so that `value` fits, or undefined when widening cannot
 * help. Only lossless widenings: Null → any kind, int64 → float64 (exact up to 2^53).
 */
export function widenKind(kind: string, valueKind: string): string | undefined {
  if (kind === valueKind) return kind;
  if (kind === 'null') return valueKind;
  if (valueKind === 'null') return kind;
  if (kind === 'int64' && valueKind === 'float64') return 'float64';
  if (kind === 'float64' && valueKind === 'int64') return 'float64';
  return undefined;
}

const INT_RANGE: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * Converts `v` to what the column's batch builder ({@link rowsToBatch}) takes; throws
 * MisfitError when it does not fit. `None` fits every column. An `int64`/`uint64` value is a
 * number when it is a safe integer, a bigint otherwise.
 */
export function toColumnValue(v: PyValue, kind: string): unknown {
  return columnConverter(kind)(v);
}

/** Converts one value for a column of a fixed kind (see {@link toColumnValue}). */
export type ColumnConverter = (v: PyValue) => unknown;

const converters = new Map<string, ColumnConverter>();

/**
 * The converter of a kind, compiled once (no kind parsing per value): what
 * {@link toColumnValue} does for that kind, as a function.
 */
export function columnConverter(kind: string): ColumnConverter {
  let c = converters.get(kind);
  if (c === undefined) {
    c = compileConverter(kind);
    if (converters.size >= 4096) converters.clear();
    converters.set(kind, c);
  }
  return c;
}

function doesNotFit(v: PyValue, kind: string): MisfitError {
  return new MisfitError(`a ${describe(v)} does not fit a ${kind} column`);
}

function compileConverter(kind: string): ColumnConverter {
  const m = KIND_RE.exec(kind);
  if (m === null || m[2] !== undefined) return (v) => convertGeneric(v, kind);
  const base = m[1]!;
  switch (base) {
    case 'bool':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'boolean') return v;
        throw doesNotFit(v, kind);
      };
    case 'utf8':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'string') return v;
        throw doesNotFit(v, kind);
      };
    case 'float32':
    case 'float64':
      return (v) => {
        if (v === null || v === undefined) return null;
        // An int is a float column's value as Python's float(x) would make it; a bigint is not
        // (it may not be exact).
        if (typeof v === 'number') return v;
        if (v instanceof PyFloat) return v.value;
        throw doesNotFit(v, kind);
      };
    default: {
      const range = INT_RANGE[base];
      if (range === undefined) return (v) => convertGeneric(v, kind);
      const [lo, hi] = range;
      if (base.endsWith('64')) {
        const unsigned = base === 'uint64';
        return (v) => {
          if (v === null || v === undefined) return null;
          if (typeof v === 'number') {
            if (!Number.isInteger(v)) throw doesNotFit(v, kind);
            // Every safe integer fits int64; only a negative one misses uint64.
            if (Number.isSafeInteger(v) && !(unsigned && v < 0)) return v;
          } else if (typeof v !== 'bigint') throw doesNotFit(v, kind);
          const b = BigInt(v);
          if (b < lo || b > hi) throw new MisfitError(`${String(v)} is out of range for ${base}`);
          return b;
        };
      }
      const loN = Number(lo);
      const hiN = Number(hi);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number') {
          if (!Number.isInteger(v)) throw doesNotFit(v, kind);
          if (v < loN || v > hiN) throw new MisfitError(`${String(v)} is out of range for ${base}`);
          return v === 0 ? 0 : v; // not -0
        }
        if (typeof v !== 'bigint') throw doesNotFit(v, kind);
        if (v < lo || v > hi) throw new MisfitError(`${String(v)} is out of range for ${base}`);
        return Number(v);
      };
    }
  }
}

/** Every kind, one value at a time (lists, binary, null). */
function convertGeneric(v: PyValue, kind: string): unknown {
  if (v === null || v === undefined) return null;
  const m = KIND_RE.exec(kind)!;
  const base = m[1]!;
  if (m[2] !== undefined) return toListValue(v, base as ElementKind, Number(m[2]));
  switch (base) {
    case 'null':
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      break;
    case 'utf8':
      if (typeof v === 'string') return v;
      break;
    case 'binary':
      if (v instanceof Uint8Array) return v;
      break;
    case 'float32':
    case 'float64':
      if (typeof v === 'number') return v;
      if (v instanceof PyFloat) return v.value;
      break;
    default: {
      const range = INT_RANGE[base];
      if (range === undefined) break;
      if (typeof v === 'number' && !Number.isInteger(v)) break;
      if (typeof v !== 'number' && typeof v !== 'bigint') break;
      const b = BigInt(v);
      if (b < range[0] || b > range[1]) throw new MisfitError(`${String(v)} is out of range for ${base}`);
      return base.endsWith('64') ? b : Number(b);
    }
  }
  throw doesNotFit(v, kind);
}

const TYPED: Readonly<Record<ElementKind, { new (buf: ArrayBuffer): ArrayLike<unknown> } | undefined>> = {
  bool: undefined,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

function toListValue(v: PyValue, el: ElementKind, n: number): unknown {
  if (!(v instanceof NdArray)) throw new MisfitError(`a ${describe(v)} does not fit a ${el}[${n}] column`);
  const got = inferKind(v);
  if (got !== `${el}[${n}]`) throw new MisfitError(`an ndarray of kind ${got} does not fit a ${el}[${n}] column`);
  // A copy: the event's bytes are a view into the received message, possibly unaligned.
  const bytes = v.data.slice();
  if (el === 'bool') return Array.from(bytes, (b) => b !== 0);
  return new TYPED[el]!(bytes.buffer);
}

function elementType(el: ElementKind): DataType {
  switch (el) {
    case 'bool':
      return new Bool();
    case 'int8':
      return new Int8();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'uint8':
      return new Uint8();
    case 'uint16':
      return new Uint16();
    case 'uint32':
      return new Uint32();
    case 'uint64':
      return new Uint64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
  }
}

/** The Arrow type of a kind. */
export function arrowType(kind: string): DataType {
  const m = KIND_RE.exec(kind);
  if (m === null) throw new Error(`not a column kind: ${kind}`);
  const base = m[1]!;
  if (m[2] !== undefined) return new FixedSizeList(Number(m[2]), new Field('item', elementType(base as ElementKind), false));
  if (base === 'utf8') return new Utf8();
  if (base === 'binary') return new Binary();
  if (base === 'null') return new Null();
  return elementType(base as ElementKind);
}

/**
 * The kind of an Arrow type (the inverse of {@link arrowType}), or undefined when the type is
 * not one ArrowArchiver writes (e.g. float16, large strings, nested lists).
 */
export function kindOfArrowType(type: DataType): string | undefined {
  switch (type.typeId) {
    case Type.Null:
      return 'null';
    case Type.Bool:
      return 'bool';
    case Type.Utf8:
      return 'utf8';
    case Type.Binary:
      return 'binary';
    case Type.Int: {
      const t = type as Int32;
      return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    }
    case Type.Float: {
      const p = (type as Float64).precision;
      return p === Precision.DOUBLE ? 'float64' : p === Precision.SINGLE ? 'float32' : undefined;
    }
    case Type.FixedSizeList: {
      const t = type as FixedSizeList;
      const el = kindOfArrowType(t.children[0]!.type);
      return el !== undefined && (ELEMENT_KINDS as readonly string[]).includes(el) && t.listSize > 0 ? `${el}[${t.listSize}]` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The data columns of a file written with {@link fileSchema} (everything after `source` and
 * `received_at`, `_key` included), or a reason why the schema is not one.
 */
export function columnsOfFileSchema(schema: Schema): { columns: ColumnSpec[] } | { problem: string } {
  const f = schema.fields;
  if (f[0]?.name !== SOURCE_COLUMN || f[0].type.typeId !== Type.Utf8 || f[1]?.name !== RECEIVED_AT_COLUMN || f[1].type.typeId !== Type.Timestamp) {
    return { problem: `does not start with the ${SOURCE_COLUMN} and ${RECEIVED_AT_COLUMN} columns` };
  }
  const columns: ColumnSpec[] = [];
  const seen = new Set<string>();
  for (const field of f.slice(2)) {
    const kind = kindOfArrowType(field.type);
    if (kind === undefined) return { problem: `column "${field.name}" has the type ${String(field.type)}, which is no column kind` };
    if (field.name === SOURCE_COLUMN || field.name === RECEIVED_AT_COLUMN || seen.has(field.name)) return { problem: `column "${field.name}" appears twice` };
    seen.add(field.name);
    columns.push({ name: field.name, kind });
  }
  return { columns };
}

/** The file schema: `source`, `received_at` (ms, UTC), then the data columns. */
export function fileSchema(columns: readonly ColumnSpec[], since?: number): Schema {
  return new Schema(
    [new Field(SOURCE_COLUMN, new Utf8(), false), new Field(RECEIVED_AT_COLUMN, new TimestampMillisecond('UTC'), false), ...columns.map((c) => new Field(c.name, arrowType(c.kind), true))],
    since === undefined ? undefined : new Map([[SCHEMA_SINCE_KEY, String(since)]]),
  );
}

/**
 * Schema metadata key: when ArrowArchiver took up the file's columns (ms since the epoch, as
 * text), later for every change of its columns. At start it continues the columns of the file
 * with the latest one (see ArrowArchiver's schema after a restart).
 */
export const SCHEMA_SINCE_KEY = 'heros_archiver.schema_since';

/** One buffered row: source, receive time and the converted data values in column order. */
export interface Row {
  readonly source: string;
  readonly receivedAt: number;
  readonly values: readonly unknown[];
}

/**
 * Builds one RecordBatch of `rows` with `schema` (from {@link fileSchema}). The column buffers
 * of the scalar kinds (and of `source`, `received_at`) are written directly, exactly as the
 * Arrow builders would lay them out; fixed-size-list and binary columns use the builders.
 */
export function rowsToBatch(schema: Schema, rows: readonly Row[]): RecordBatch {
  const n = rows.length;
  const fields = schema.fields;
  const children: Data[] = new Array<Data>(fields.length);
  const col: unknown[] = new Array<unknown>(n);
  for (let i = 0; i < fields.length; i++) {
    if (i === 0) for (let r = 0; r < n; r++) col[r] = rows[r]!.source;
    else if (i === 1) for (let r = 0; r < n; r++) col[r] = rows[r]!.receivedAt;
    else for (let r = 0, j = i - 2; r < n; r++) col[r] = rows[r]!.values[j];
    children[i] = columnData(fields[i]!.type, col, n);
  }
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/**
 * {@link rowsToBatch} with an Arrow builder per column for every kind: the reference the
 * direct buffers are tested against.
 */
export function rowsToBatchWithBuilders(schema: Schema, rows: readonly Row[]): RecordBatch {
  const n = rows.length;
  const fields = schema.fields;
  const children: Data[] = [];
  const col: unknown[] = new Array<unknown>(n);
  for (let i = 0; i < fields.length; i++) {
    if (i === 0) for (let r = 0; r < n; r++) col[r] = rows[r]!.source;
    else if (i === 1) for (let r = 0; r < n; r++) col[r] = rows[r]!.receivedAt;
    else for (let r = 0, j = i - 2; r < n; r++) col[r] = rows[r]!.values[j];
    children.push(builderData(fields[i]!.type, col, n));
  }
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;
const utf8Encoder = new TextEncoder();

/** Bytes the builders give a bitmap of `n` bits (rounded up to 64, as theirs are). */
function bitmapBytes(n: number): number {
  const bytesMinus1 = Math.ceil(n / 8) - 1;
  return bytesMinus1 - (bytesMinus1 % 64) + 64 || 64;
}

function columnData(type: DataType, col: readonly unknown[], n: number): Data {
  switch (type.typeId) {
    case Type.Utf8:
      return utf8Data(type, col, n);
    case Type.Bool:
      return boolData(type, col, n);
    case Type.Null:
      return makeData({ type: type as Null, length: n });
    case Type.Int: {
      const t = type as Int64 | Int32;
      if (t.bitWidth === 64) return int64Data(type, col, n, t.isSigned);
      return fixedData(type, new (t.ArrayType as Int32ArrayConstructor)(n), col, n);
    }
    case Type.Float: {
      const t = type as Float64 | Float32;
      if (t.precision === Precision.DOUBLE) return fixedData(type, new Float64Array(n), col, n);
      if (t.precision === Precision.SINGLE) return fixedData(type, new Float32Array(n), col, n);
      break;
    }
    case Type.Timestamp:
      if ((type as TimestampMillisecond).unit === TimeUnit.MILLISECOND) return int64Data(type, col, n, true);
      break;
  }
  return builderData(type, col, n);
}

/** One column through an Arrow builder (int64 numbers as bigints, as the builder needs). */
function builderData(type: DataType, col: readonly unknown[], n: number): Data {
  const b = makeBuilder({ type, nullValues: [null, undefined] });
  const big = type.typeId === Type.Int && (type as Int64).bitWidth === 64;
  for (let r = 0; r < n; r++) {
    const v = col[r];
    b.append(big && typeof v === 'number' ? BigInt(v) : v);
  }
  return b.finish().flush();
}

/** Validity bitmap of `col` (bits of non-null values), or undefined when nothing is null. */
function validity(col: readonly unknown[], n: number): { bitmap: Uint8Array | undefined; nulls: number } {
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  for (let r = 0; r < n; r++) {
    const v = col[r];
    if (v === null || v === undefined) {
      if (bitmap === undefined) {
        bitmap = new Uint8Array(bitmapBytes(n));
        for (let k = 0; k < r; k++) bitmap[k >> 3]! |= 1 << (k & 7);
      }
      nulls++;
    } else if (bitmap !== undefined) bitmap[r >> 3]! |= 1 << (r & 7);
  }
  return { bitmap, nulls };
}

function fixedData(type: DataType, values: Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array, col: readonly unknown[], n: number): Data {
  const { bitmap, nulls } = validity(col, n);
  for (let r = 0; r < n; r++) {
    const v = col[r];
    if (v !== null && v !== undefined) values[r] = v as number;
  }
  return makeData({ type: type as Int32, length: n, nullCount: nulls, data: values as Int32Array, nullBitmap: bitmap });
}

/** Int64, Uint64 and Timestamp(ms): a safe integer is written as two 32-bit halves, no BigInt. */
function int64Data(type: DataType, col: readonly unknown[], n: number, signed: boolean): Data {
  const { bitmap, nulls } = validity(col, n);
  const values = signed ? new BigInt64Array(n) : new BigUint64Array(n);
  const halves = new Int32Array(values.buffer);
  for (let r = 0; r < n; r++) {
    const v = col[r];
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && LITTLE_ENDIAN && Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_32);
      halves[2 * r] = v - hi * TWO_32;
      halves[2 * r + 1] = hi;
    } else {
      // A bigint (or what BigInt() makes of anything else, throwing as the builder would).
      values[r] = typeof v === 'bigint' ? v : BigInt(v as number);
    }
  }
  return makeData({ type: type as Int64, length: n, nullCount: nulls, data: values as BigInt64Array, nullBitmap: bitmap });
}

function boolData(type: DataType, col: readonly unknown[], n: number): Data {
  const { bitmap, nulls } = validity(col, n);
  const values = new Uint8Array(bitmapBytes(n));
  for (let r = 0; r < n; r++) if (col[r]) values[r >> 3]! |= 1 << (r & 7);
  return makeData({ type: type as Bool, length: n, nullCount: nulls, data: values, nullBitmap: bitmap });
}

/**
 * Utf8: offsets plus the UTF-8 bytes, encoded with one encodeInto call when the column is all
 * ASCII (the usual case), else string by string (as the builder does, so lone surrogates
 * become U+FFFD the same way).
 */
function utf8Data(type: DataType, col: readonly unknown[], n: number): Data {
  const { bitmap, nulls } = validity(col, n);
  const offsets = new Int32Array(n + 1);
  let strings = col as string[];
  if (nulls > 0 || col.length !== n) {
    strings = [];
    for (let r = 0; r < n; r++) if (col[r] !== null && col[r] !== undefined) strings.push(col[r] as string);
  }
  let chars = 0;
  for (let k = 0; k < strings.length; k++) {
    if (typeof strings[k] !== 'string') return builderData(type, col, n);
    chars += strings[k]!.length;
  }
  let data = new Uint8Array(chars);
  const joined = strings.length === 1 ? strings[0]! : strings.join('');
  const { read, written } = utf8Encoder.encodeInto(joined, data);
  if (read === chars && written === chars) {
    let pos = 0;
    for (let r = 0; r < n; r++) {
      const v = col[r];
      if (v !== null && v !== undefined) pos += (v as string).length;
      offsets[r + 1] = pos;
    }
  } else {
    // Each UTF-16 code unit takes at most 3 bytes.
    const buf = new Uint8Array(chars * 3);
    let pos = 0;
    for (let r = 0; r < n; r++) {
      const v = col[r];
      if (v !== null && v !== undefined) pos += utf8Encoder.encodeInto(v as string, buf.subarray(pos)).written;
      offsets[r + 1] = pos;
    }
    data = buf.slice(0, pos);
  }
  return makeData({ type: type as Utf8, length: n, nullCount: nulls, data, valueOffsets: offsets, nullBitmap: bitmap });
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (typeof v === 'object') return (v as object).constructor?.name === 'Object' ? 'dict' : ((v as object).constructor?.name ?? 'object');
  return typeof v;
}
