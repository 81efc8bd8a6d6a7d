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
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
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
 * Converts `v` to what the column's Arrow builder takes; throws MisfitError when it does not
 * fit. `None` fits every column.
 */
export function toColumnValue(v: PyValue, kind: string): unknown {
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
      // An int is a float column's value as Python's float(x) would make it; a bigint is not
      // (it may not be exact).
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
  throw new MisfitError(`a ${describe(v)} does not fit a ${kind} column`);
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

/** The file schema: `source`, `received_at` (ms, UTC), then the data columns. */
export function fileSchema(columns: readonly ColumnSpec[]): Schema {
  return new Schema([
    new Field(SOURCE_COLUMN, new Utf8(), false),
    new Field(RECEIVED_AT_COLUMN, new TimestampMillisecond('UTC'), false),
    ...columns.map((c) => new Field(c.name, arrowType(c.kind), true)),
  ]);
}

/** One buffered row: source, receive time and the converted data values in column order. */
export interface Row {
  readonly source: string;
  readonly receivedAt: number;
  readonly values: readonly unknown[];
}

/** Builds one RecordBatch of `rows` with `schema` (from {@link fileSchema}). */
export function rowsToBatch(schema: Schema, rows: readonly Row[]): RecordBatch {
  const builders = schema.fields.map((f) => makeBuilder({ type: f.type, nullValues: [null, undefined] }));
  for (const row of rows) {
    builders[0]!.append(row.source);
    builders[1]!.append(row.receivedAt);
    for (let i = 0; i < row.values.length; i++) builders[i + 2]!.append(row.values[i]);
  }
  const children = builders.map((b) => b.finish().flush());
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (typeof v === 'object') return (v as object).constructor?.name === 'Object' ? 'dict' : ((v as object).constructor?.name ?? 'object');
  return typeof v;
}
