/**
 * The values a template works with: the event values of `src/heros/values.ts` plus the few
 * Python objects that only exist while rendering (Jinja2's `Undefined`, tuples, ranges, the
 * `loop` variable, callables, generators, namespaces, dict views).
 *
 * Every value a template can reach is one of these; nothing else is ever handed out, which is
 * what keeps templates away from JavaScript internals (`constructor`, `__proto__`, functions).
 */
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from '../heros/values.js';

/**
 * A Python exception raised while rendering. `pyType` is the Python class name
 * (`TypeError`, `ZeroDivisionError`, `UndefinedError`, …) so messages read like Jinja2's.
 */
export class PyError extends Error {
  readonly pyType: string;
  constructor(pyType: string, message: string) {
    super(message);
    this.name = pyType;
    this.pyType = pyType;
  }
}

/** Shorthand for throwing a Python exception. */
export function pyRaise(pyType: string, message: string): never {
  throw new PyError(pyType, message);
}

const MISSING: unique symbol = Symbol('missing');

/** Returned by lookups that found nothing (kept apart from every Python value). */
export const NOT_FOUND: unique symbol = Symbol('not found');

/**
 * Jinja2's default `Undefined`: renders as `''`, is falsy, iterates as empty, and raises
 * `UndefinedError` on any other use (attribute, item, arithmetic, call).
 */
export class Undefined {
  readonly hint: string | null;
  readonly obj: Val | typeof MISSING;
  readonly undefName: Val | null;
  constructor(hint: string | null, obj: Val | typeof MISSING = MISSING, name: Val | null = null) {
    this.hint = hint;
    this.obj = obj;
    this.undefName = name;
  }
  /** The message Jinja2 builds in `Undefined._undefined_message`. */
  message(): string {
    if (this.hint !== null) return this.hint;
    if (this.obj === MISSING) return `${pyStrRepr(String(this.undefName))} is undefined`;
    if (typeof this.undefName !== 'string') {
      return `${objectTypeRepr(this.obj)} has no element ${String(this.undefName)}`;
    }
    return `${pyStrRepr(objectTypeRepr(this.obj))} has no attribute ${pyStrRepr(this.undefName)}`;
  }
  fail(): never {
    throw new PyError('UndefinedError', this.message());
  }
}

/** `Undefined` for a missing variable. */
export function undefinedName(name: string): Undefined {
  return new Undefined(null, MISSING, name);
}

/** A Python tuple (event arrays are lists; tuples only come from template literals and filters). */
export class PyTuple {
  readonly items: readonly Val[];
  constructor(items: readonly Val[]) {
    this.items = items;
  }
}

/** Jinja2's `_GroupTuple` from `groupby`: a 2-tuple with `grouper` and `list` attributes. */
export class GroupTuple extends PyTuple {}

/** A Python `range` object (lazy). */
export class PyRange {
  readonly start: number;
  readonly stop: number;
  readonly step: number;
  readonly length: number;
  constructor(start: number, stop: number, step: number) {
    this.start = start;
    this.stop = stop;
    this.step = step;
    const n = step > 0 ? Math.ceil((stop - start) / step) : Math.ceil((start - stop) / -step);
    this.length = Math.max(0, n);
  }
  at(i: number): number {
    return this.start + i * this.step;
  }
}

/** Positional and keyword arguments of a call, after `*args`/`**kwargs` were expanded. */
export type Kwargs = Map<string, Val> | null;

/**
 * Something a template may call: a global (`range`, `dict`, `namespace`), a bound method of a
 * value (`'a'.upper`), or a method of `loop`. Plain JavaScript functions are never values.
 */
export class PyCallable {
  readonly name: string;
  readonly call: (args: Val[], kwargs: Kwargs) => Val;
  /** What `str()` shows, e.g. `<built-in method upper of str object>`. */
  readonly reprText: string;
  constructor(name: string, call: (args: Val[], kwargs: Kwargs) => Val, reprText: string) {
    this.name = name;
    this.call = call;
    this.reprText = reprText;
  }
}

/**
 * A Python iterator/generator (`map`, `select`, `reverse`, `unique`, …). Single use, truthy,
 * and without `len()`, exactly like the generator Jinja2 returns.
 */
export class PyIter {
  readonly typeName: string;
  readonly source: Iterator<Val>;
  constructor(typeName: string, source: Iterator<Val>) {
    this.typeName = typeName;
    this.source = source;
  }
}

/** Jinja2's `namespace()` object; the one value `{% set ns.attr = … %}` may modify. */
export class Namespace {
  readonly attrs: Map<string, Val>;
  constructor(attrs: Map<string, Val>) {
    this.attrs = attrs;
  }
}

/** `dict.keys()`, `dict.values()`, `dict.items()`. */
export class DictView {
  readonly kind: 'keys' | 'values' | 'items';
  readonly dict: Dict;
  constructor(kind: 'keys' | 'values' | 'items', dict: Dict) {
    this.kind = kind;
    this.dict = dict;
  }
}

/** The `loop` variable inside `{% for %}`. */
export class LoopContext {
  readonly items: readonly Val[];
  index0 = 0;
  #lastChanged: Val[] | typeof MISSING = MISSING;
  constructor(items: readonly Val[]) {
    this.items = items;
  }
  get length(): number {
    return this.items.length;
  }
  /** `loop.changed(*values)`. */
  changed(values: Val[], eq: (a: Val, b: Val) => boolean): boolean {
    const last = this.#lastChanged;
    if (last !== MISSING && last.length === values.length && last.every((v, i) => eq(v, values[i] as Val))) {
      return false;
    }
    this.#lastChanged = values;
    return true;
  }
}

/** A Python dict: a plain object (string keys) or a `Map`. */
export type Dict = Map<PyValue | Val, Val> | { [key: string]: Val };

/** Every value a template can hold. */
export type Val =
  | PyValue
  | Undefined
  | PyTuple
  | PyRange
  | PyCallable
  | PyIter
  | Namespace
  | DictView
  | LoopContext
  | Val[]
  | Map<Val, Val>
  | Set<Val>
  | { [key: string]: Val };

/** True for a plain-object dict (never a class instance, array or function). */
export function isPlainDict(v: unknown): v is { [key: string]: Val } {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True for any Python dict. */
export function isDict(v: unknown): v is Dict {
  return v instanceof Map || isPlainDict(v);
}

/** Python's type name of a value, for messages (`'int' object is not iterable`). */
export function pyTypeName(v: Val): string {
  if (v === null || v === undefined) return 'NoneType';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    case 'object':
      break;
    default:
      return 'object';
  }
  if (v instanceof PyFloat) return 'float';
  if (Array.isArray(v)) return 'list';
  if (v instanceof GroupTuple) return '_GroupTuple';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof Map || isPlainDict(v)) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyRange) return 'range';
  if (v instanceof PyIter) return v.typeName;
  if (v instanceof PyCallable) return 'builtin_function_or_method';
  if (v instanceof Namespace) return 'Namespace';
  if (v instanceof LoopContext) return 'LoopContext';
  if (v instanceof DictView) return `dict_${v.kind}`;
  if (v instanceof NdArray) return 'numpy.ndarray';
  if (v instanceof PyDateTime) return 'datetime';
  if (v instanceof HeroRef) return 'HERO';
  if (v instanceof Tagged) return 'CBORTag';
  return 'object';
}

/** Jinja2's `object_type_repr`: `'dict object'`, `None`, … */
export function objectTypeRepr(v: Val | typeof MISSING): string {
  if (v === MISSING) return 'missing';
  if (v === null || v === undefined) return 'None';
  const t = pyTypeName(v);
  return `${t} object`;
}

/** Python `repr()` of a plain string — used in messages, and by `py-str.ts` for values. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x7f) out += ch;
    else if (NON_PRINTABLE.test(ch)) out += escapeCodePoint(cp);
    else out += ch;
  }
  return out + quote;
}

/**
 * Characters Python's `str.isprintable()` rejects (categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs
 * except the ASCII space); `repr()` escapes them. Unicode versions may differ slightly between
 * Python and Node for unassigned code points.
 */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** `\xNN`, `\uNNNN` or `\UNNNNNNNN`, as Python's repr writes a code point. */
export function escapeCodePoint(cp: number): string {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}
