/**
 * Python's `json.dumps(value, indent=4)`, byte for byte, for the values an event carries.
 *
 * herostools' JsonArchiver writes `json.dumps(payload, indent=4)`; files written here must be
 * identical so that tools which diff or hash archives see no difference. Everything Python's
 * encoder does with its defaults is reproduced: `ensure_ascii` (all but printable ASCII as
 * lowercase `\uXXXX`, astral characters as surrogate pairs, DEL 0x7f escaped), `allow_nan`
 * (`NaN`, `Infinity`, `-Infinity`), floats as `repr(float)`, ints exact, dict key order kept,
 * dict keys coerced (int → decimal, float → repr, `True` → `"true"`, `None` → `"null"`),
 * `", "`/`": "` separators on one line and `","`/`": "` with newlines when indenting, `{}` and
 * `[]` for empty containers.
 *
 * Python's json cannot encode some event values. With `nonJson: 'reject'` they throw, as
 * Python would; with `nonJson: 'represent'` (the default) they are written as follows, so that
 * the file still loads with `json.load` and loses as little as possible:
 *
 * | value                          | written as                                               |
 * |--------------------------------|----------------------------------------------------------|
 * | `numpy.ndarray` ({@link NdArray}) | nested lists, exactly `json.dumps(arr.tolist())`: ints exact, floats as the repr of the element widened to a Python float (float16/32 too), bools `true`/`false`, `<U` strings as strings; a 0-d array as its element |
 * | complex ndarray element        | `[re, im]`, two floats                                   |
 * | `\|S` ndarray element          | `{"$bytes": "<base64>"}`, trailing NULs removed as numpy does |
 * | `bytes` (`Uint8Array`)         | `{"$bytes": "<base64>"}` (standard alphabet, padded)     |
 * | `set` (`Set`)                  | a list, in the order the set was received                |
 * | `datetime` ({@link PyDateTime}) | its ISO-8601 string as sent                             |
 * | HERO reference ({@link HeroRef}) | `{"$hero": {"realm": "<realm>", "name": "<name>"}}`    |
 * | other CBOR tag ({@link Tagged}) | `{"$tag": <number>, "value": <content>}`                |
 * | CBOR `undefined`               | `null` (the only lossy entry: Python has no undefined)   |
 * | dict key that is not str, int, float, bool or None | the key's representation above when that is a string (a datetime key gives its ISO string), otherwise that representation as one-line JSON text (a tuple key `(1, 2)` gives `"[1, 2]"`) |
 *
 * A reference cycle throws in both modes (Python raises `ValueError: Circular reference
 * detected`). Nesting depth is not limited: the encoder keeps its own stack, where Python
 * would raise `RecursionError` near depth 1000.
 *
 * Plain objects are written in `Object.keys` order, which puts array-index keys ("2", "10")
 * first; the value model therefore decodes dicts with such keys as a `Map`, which keeps order.
 */
import { ArchiverError, UnrecoverableError } from '../errors.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from '../heros/values.js';
import { pyFloatRepr } from '../heros/py-repr.js';
import { ndarrayToPy } from './ndarray-values.js';

/** Options of {@link pyJsonDumps}. */
export interface PyJsonDumpsOptions {
  /**
   * Spaces per nesting level, as `json.dumps(indent=…)`: items on their own lines with `","`
   * between them. `null` writes one line with `", "` between items, as `indent=None`.
   * 0 or less still puts items on their own lines, unindented, as Python does.
   * @default 4
   */
  indent?: number | null;
  /**
   * What to do with values Python's json cannot encode: `'represent'` writes them as
   * documented at the top of this module; `'reject'` throws an `UnrecoverableError`
   * (`ARCHIVER_PAYLOAD_MISMATCH`) that names the type and where it is.
   * @default 'represent'
   */
  nonJson?: 'represent' | 'reject';
  /**
   * The name of the value in error paths (`payload.images[2]`).
   * @default 'payload'
   */
  rootPath?: string;
}

const LIST = 0;
const OBJECT = 1;
const MAP = 2;

/** One open container on the encoder's own stack. */
interface Frame {
  readonly kind: typeof LIST | typeof OBJECT | typeof MAP;
  /** The value as it came in (a Set or Tagged, not its stand-in), for cycle detection. */
  readonly container: object;
  /** List items, object keys, or map entries. */
  readonly items: readonly unknown[];
  /** The object whose keys `items` holds. */
  readonly obj: { readonly [key: string]: PyValue } | null;
  /** The item being written. */
  index: number;
}

/**
 * Cycles can only be met by going deeper forever, so the path is tracked only past this
 * depth: ordinary payloads pay nothing for the check.
 */
const CYCLE_CHECK_DEPTH = 64;

/** Strings that need no escaping: printable ASCII except `"` and `\`. */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** What `ensure_ascii` escapes, per UTF-16 unit, so astral characters become surrogate pairs. */
const ESCAPED_UNIT = /[\x00-\x1f"\\\x7f-\uffff]/g;

const ASCII_ESCAPES: readonly string[] = (() => {
  const table: string[] = [];
  for (let c = 0; c < 0x80; c++) table.push(`\\u${c.toString(16).padStart(4, '0')}`);
  table[0x08] = '\\b';
  table[0x09] = '\\t';
  table[0x0a] = '\\n';
  table[0x0c] = '\\f';
  table[0x0d] = '\\r';
  table[0x22] = '\\"';
  table[0x5c] = '\\\\';
  return table;
})();

function escapeUnit(unit: string): string {
  const code = unit.charCodeAt(0);
  // Python writes the hex digits in lowercase.
  return code < 0x80 ? (ASCII_ESCAPES[code] as string) : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A JSON string literal as Python's `ensure_ascii` encoder writes it. */
function quote(s: string): string {
  if (PLAIN_STRING.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPED_UNIT, escapeUnit)}"`;
}

/** A float as Python's json writes it: `repr`, except the non-finite values. */
function floatText(x: number): string {
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Number.isNaN(x)) return 'NaN';
  return pyFloatRepr(x);
}

/** A number of the value model: whole numbers are Python ints, the rest floats. */
function numberText(n: number): string {
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
  return floatText(n);
}

function isPlainObject(v: object): v is { readonly [key: string]: PyValue } {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The Python type name used in messages, like Python's "Object of type X …". */
function pythonTypeName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v instanceof NdArray) return 'ndarray';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Set) return 'set';
  if (v instanceof PyDateTime) return 'datetime';
  if (v instanceof HeroRef) return 'HERO reference';
  if (v instanceof Tagged) return `CBORTag(${String(v.tag)})`;
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map || (typeof v === 'object' && v !== null && isPlainObject(v))) return 'dict';
  return typeof v;
}

/** A value Python's json cannot encode, which this module writes through a stand-in. */
type NonJson = NdArray | Uint8Array | Set<PyValue> | PyDateTime | HeroRef | Tagged;

/** True for the values this module writes as something Python's json could not write. */
function isNonJson(v: object): v is NonJson {
  return (
    v instanceof NdArray ||
    v instanceof Uint8Array ||
    v instanceof Set ||
    v instanceof PyDateTime ||
    v instanceof HeroRef ||
    v instanceof Tagged
  );
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * Writes `value` exactly as Python's `json.dumps(value, indent=options.indent)` would (see the
 * module documentation for values Python cannot encode).
 *
 * @throws UnrecoverableError `ARCHIVER_PAYLOAD_MISMATCH`, naming the Python type and the path
 *   (`payload.images[2]`): with `nonJson: 'reject'` for a value or dict key Python's json
 *   rejects; in both modes for a reference cycle or a JavaScript value outside the value model.
 * @throws ArchiverError `ARCHIVER_UNSUPPORTED_DTYPE` (with the path) when an ndarray to be
 *   represented has a dtype that cannot be read.
 */
export function pyJsonDumps(value: PyValue, options: PyJsonDumpsOptions = {}): string {
  const indent = options.indent === undefined ? 4 : options.indent;
  const rootPath = options.rootPath ?? 'payload';
  try {
    return encode(value, indent, options.nonJson === 'reject', rootPath);
  } catch (err) {
    // Python writes any size; a JavaScript string stops near 2^29 characters (huge ndarrays).
    if (err instanceof RangeError && err.message.includes('string length')) {
      throw new UnrecoverableError(`${rootPath}: the JSON text is longer than a JavaScript string can hold`, {
        path: rootPath,
        cause: err,
      });
    }
    throw err;
  }
}

function encode(value: PyValue, indent: number | null, reject: boolean, rootPath: string): string {
  const pretty = indent !== null;
  const unit = pretty ? ' '.repeat(Math.max(0, Math.trunc(indent))) : '';
  // '\n' plus the indentation of each depth, built once per depth.
  const newlines: string[] = ['\n'];
  const newline = (depth: number): string => {
    let s = newlines[depth];
    if (s === undefined) {
      s = `\n${unit.repeat(depth)}`;
      newlines[depth] = s;
    }
    return s;
  };

  let out = '';
  const stack: Frame[] = [];
  let active: Set<object> | null = null;

  const pathTo = (depth: number): string => {
    let p = rootPath;
    for (let d = 0; d < depth; d++) {
      const f = stack[d] as Frame;
      if (f.kind === LIST) p += `[${f.index}]`;
      else if (f.kind === OBJECT) p += keySegment(f.items[f.index] as string);
      else {
        const key = (f.items[f.index] as readonly [PyValue, PyValue])[0];
        p += typeof key === 'string' ? keySegment(key) : `[${mapKey(key, false)}]`;
      }
    }
    return p;
  };

  const mismatch = (message: string, depth = stack.length): UnrecoverableError => {
    const path = pathTo(depth);
    return new UnrecoverableError(`${path}: ${message}`, { path });
  };

  /** A dict key as Python's json coerces it; other key types as documented, or thrown. */
  const mapKey = (key: PyValue, strict: boolean): string => {
    switch (typeof key) {
      case 'string':
        return key;
      case 'number':
        return numberText(key);
      case 'bigint':
        return key.toString();
      case 'boolean':
        return key ? 'true' : 'false';
      default:
        break;
    }
    if (key === null) return 'null';
    if (key instanceof PyFloat) return floatText(key.value);
    if (strict) {
      // Only hashable values can be keys in Python: a list key was a tuple, a set a frozenset.
      const type = Array.isArray(key) ? 'tuple' : key instanceof Set ? 'frozenset' : pythonTypeName(key);
      throw mismatch(`keys must be str, int, float, bool or None, not ${type}`, stack.length - 1);
    }
    const stand = key instanceof PyDateTime ? key.iso : key;
    return typeof stand === 'string' ? stand : pyJsonDumps(stand, { indent: null, rootPath: `${pathTo(stack.length - 1)} key` });
  };

  const push = (frame: Frame): void => {
    if (active === null && stack.length >= CYCLE_CHECK_DEPTH) {
      active = new Set(stack.map((f) => f.container));
      if (active.size < stack.length) throw mismatch('Circular reference detected');
    }
    if (active !== null) {
      if (active.has(frame.container)) throw mismatch('Circular reference detected');
      active.add(frame.container);
    }
    stack.push(frame);
  };

  const pop = (frame: Frame): void => {
    stack.pop();
    if (active !== null) active.delete(frame.container);
  };

  /** Writes the key of the current item of `frame` when it is a dict, and returns the item. */
  const enterItem = (frame: Frame): PyValue => {
    const item = frame.items[frame.index];
    if (frame.kind === LIST) return item as PyValue;
    if (frame.kind === OBJECT) {
      out += `${quote(item as string)}: `;
      return (frame.obj as { readonly [key: string]: PyValue })[item as string];
    }
    const [key, v] = item as readonly [PyValue, PyValue];
    out += `${quote(mapKey(key, reject))}: `;
    return v;
  };

  /** Opens a container: writes `[]`/`{}` and returns false when empty, else pushes it. */
  const open = (kind: Frame['kind'], container: object, items: readonly unknown[], obj: Frame['obj']): boolean => {
    if (items.length === 0) {
      out += kind === LIST ? '[]' : '{}';
      return false;
    }
    push({ kind, container, items, obj, index: 0 });
    out += kind === LIST ? '[' : '{';
    if (pretty) out += newline(stack.length);
    return true;
  };

  let v: PyValue = value;
  // The value a stand-in was made for, so that cycles through a Set or Tagged are still seen.
  let origin: object | null = null;

  for (;;) {
    const standingFor = origin;
    origin = null;
    let opened = false;
    switch (typeof v) {
      case 'string':
        out += quote(v);
        break;
      case 'number':
        out += numberText(v);
        break;
      case 'boolean':
        out += v ? 'true' : 'false';
        break;
      case 'bigint':
        out += v.toString();
        break;
      case 'undefined':
        if (reject) throw mismatch('Object of type undefined is not JSON serializable');
        out += 'null';
        break;
      case 'object': {
        if (v === null) {
          out += 'null';
          break;
        }
        const container: object = standingFor ?? v;
        if (Array.isArray(v)) {
          opened = open(LIST, container, v, null);
        } else if (v instanceof PyFloat) {
          out += floatText(v.value);
        } else if (isPlainObject(v)) {
          opened = open(OBJECT, container, Object.keys(v), v);
        } else if (v instanceof Map) {
          opened = open(MAP, container, Array.from(v), null);
        } else if (isNonJson(v)) {
          if (reject) throw mismatch(`Object of type ${pythonTypeName(v)} is not JSON serializable`);
          origin = container;
          v = standIn(v, () => pathTo(stack.length));
          continue;
        } else {
          // Only reachable from code that bypasses the PyValue type (a Date, a Float64Array…).
          const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
          throw mismatch(`${name ?? 'object'} is not a value an event can carry`);
        }
        break;
      }
      default:
        throw mismatch(`${typeof v} is not a value an event can carry`);
    }

    if (opened) {
      v = enterItem(stack[stack.length - 1] as Frame);
      continue;
    }
    // The value is written: move to the next item, closing every container that is done.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return out;
      top.index += 1;
      if (top.index < top.items.length) {
        out += pretty ? `,${newline(stack.length)}` : ', ';
        v = enterItem(top);
        break;
      }
      pop(top);
      if (pretty) out += newline(stack.length);
      out += top.kind === LIST ? ']' : '}';
    }
  }
}

/** The JSON-encodable value written in place of one Python's json cannot encode. */
function standIn(v: NonJson, path: () => string): PyValue {
  if (v instanceof NdArray) {
    try {
      return ndarrayToPy(v);
    } catch (err) {
      if (!(err instanceof ArchiverError)) throw err;
      const where = path();
      throw new ArchiverError(err.code, `${where}: ${err.message}`, { path: where, cause: err });
    }
  }
  if (v instanceof Uint8Array) return { $bytes: base64(v) };
  if (v instanceof Set) return Array.from(v);
  if (v instanceof PyDateTime) return v.iso;
  if (v instanceof HeroRef) return { $hero: { realm: v.realm, name: v.name } };
  return { $tag: v.tag, value: v.value };
}
