/**
 * Python semantics of the operations a template performs on values: truth, equality,
 * ordering, `in`, iteration, `len`, subscription and slicing, the arithmetic operators, and
 * Jinja2's `environment.getattr` / `environment.getitem`.
 */
import { NdArray, PyDateTime, PyFloat } from '../heros/values.js';
import { datetimeTimestamp } from './py-datetime.js';
import { pyAttr } from './py-methods.js';
import { isFloat, isIntLike, isNumber, numBinOp, numCompare, numNeg, intOf, type PyInt } from './py-number.js';
import {
  DictView,
  LoopContext,
  Namespace,
  PyCallable,
  PyError,
  PyIter,
  PyRange,
  PyTuple,
  NOT_FOUND,
  Undefined,
  isPlainDict,
  pyRaise,
  pyTypeName,
  type Dict,
  type Kwargs,
  type Val,
} from './py-objects.js';
import { pyRepr, pyStr } from './py-str.js';
import { cpArray, cpCompare, cpLength, cpSlice, hasAstral } from './py-text.js';
import { printf } from './printf.js';

/** A Python `slice` object (only created by `x[a:b:c]`). */
export class PySlice {
  readonly start: Val;
  readonly stop: Val;
  readonly step: Val;
  constructor(start: Val, stop: Val, step: Val) {
    this.start = start;
    this.stop = stop;
    this.step = step;
  }
}

/** Python truth value. */
export function pyBool(v: Val): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'undefined':
      return false;
    default:
      break;
  }
  if (v === null) return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Undefined) return false;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (v instanceof Uint8Array) return v.length > 0;
  if (v instanceof PyRange) return v.length > 0;
  if (v instanceof DictView) return dictSize(v.dict) > 0;
  if (v instanceof NdArray) {
    const size = v.shape.reduce((a, b) => a * b, 1);
    if (size !== 1) {
      pyRaise('ValueError', 'The truth value of an array with more than one element is ambiguous.');
    }
    return v.data.some((b) => b !== 0);
  }
  if (isPlainDict(v)) {
    for (const _ in v) return true;
    return false;
  }
  return true;
}

/** Number of entries of a dict. */
export function dictSize(d: Dict): number {
  return d instanceof Map ? d.size : Object.keys(d).length;
}

/** The `[key, value]` pairs of a dict, in order. */
export function dictEntries(d: Dict): [Val, Val][] {
  if (d instanceof Map) return [...d.entries()];
  return Object.keys(d).map((k) => [k, d[k] as Val]);
}

/** The keys of a dict, in order. */
export function dictKeys(d: Dict): Val[] {
  return d instanceof Map ? [...d.keys()] : Object.keys(d);
}

function isUnhashable(v: Val): boolean {
  return Array.isArray(v) || v instanceof Map || v instanceof Set || isPlainDict(v) || v instanceof DictView;
}

/**
 * Python `d[key]` lookup with hash equality (`1`, `1.0` and `True` are one key). Returns
 * NOT_FOUND when missing; raises TypeError for an unhashable key.
 */
export function dictLookup(d: Dict, key: Val): Val | typeof NOT_FOUND {
  if (isUnhashable(key)) pyRaise('TypeError', `unhashable type: '${pyTypeName(key)}'`);
  if (!(d instanceof Map)) {
    if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(d, key)) return d[key] as Val;
    return NOT_FOUND;
  }
  if (d.has(key)) return d.get(key) as Val;
  if (typeof key === 'string') return NOT_FOUND;
  for (const [k, v] of d) if (typeof k !== 'string' && pyEq(k, key)) return v;
  return NOT_FOUND;
}

/** Python `a == b`. */
export function pyEq(a: Val, b: Val): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' || tb === 'string') return false;
  if (isNumber(a)) return isNumber(b) && numCompare(a, b) === 0;
  if (isNumber(b)) return false;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (b === null || b === undefined) return false;
  if (a instanceof Undefined) return b instanceof Undefined;
  if (b instanceof Undefined) return false;
  if (Array.isArray(a)) return Array.isArray(b) && seqEq(a, b);
  if (a instanceof PyTuple) return b instanceof PyTuple && seqEq(a.items, b.items);
  if (isDictVal(a)) {
    if (!isDictVal(b)) return false;
    if (dictSize(a) !== dictSize(b)) return false;
    for (const [k, v] of dictEntries(a)) {
      const w = dictLookup(b, k);
      if (w === NOT_FOUND || !pyEq(v, w)) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    for (const x of a) if (!setHas(b, x)) return false;
    return true;
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof PyRange) {
    if (!(b instanceof PyRange) || a.length !== b.length) return false;
    return a.length === 0 || (a.start === b.start && (a.length === 1 || a.step === b.step));
  }
  if (a instanceof PyDateTime && b instanceof PyDateTime) return datetimeTimestamp(a) === datetimeTimestamp(b);
  return false;
}

function isDictVal(v: Val): v is Dict {
  return v instanceof Map || isPlainDict(v);
}

function seqEq(a: readonly Val[], b: readonly Val[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!pyEq(a[i] as Val, b[i] as Val)) return false;
  return true;
}

function setHas(s: Set<Val>, x: Val): boolean {
  if (s.has(x)) return true;
  for (const y of s) if (pyEq(x, y)) return true;
  return false;
}

const OP_SYMBOL: Record<string, string> = { lt: '<', lteq: '<=', gt: '>', gteq: '>=' };

/** Python `a < b`, `a <= b`, `a > b`, `a >= b`. */
export function pyOrder(op: 'lt' | 'lteq' | 'gt' | 'gteq', a: Val, b: Val): boolean {
  if (isNumber(a) && isNumber(b)) {
    const c = numCompare(a, b);
    if (c === undefined) return false;
    return op === 'lt' ? c < 0 : op === 'lteq' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const c = cpCompare(a, b);
    return op === 'lt' ? c < 0 : op === 'lteq' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0;
  }
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  const seqA = Array.isArray(a) ? a : a instanceof PyTuple ? a.items : null;
  const seqB = Array.isArray(b) ? b : b instanceof PyTuple ? b.items : null;
  if (seqA !== null && seqB !== null && Array.isArray(a) === Array.isArray(b)) {
    const n = Math.min(seqA.length, seqB.length);
    for (let i = 0; i < n; i++) {
      const x = seqA[i] as Val;
      const y = seqB[i] as Val;
      if (!pyEq(x, y)) {
        if (op === 'lt' || op === 'lteq') return pyOrder('lt', x, y);
        return pyOrder('gt', x, y);
      }
    }
    const c = seqA.length - seqB.length;
    return op === 'lt' ? c < 0 : op === 'lteq' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0;
  }
  if (a instanceof Set && b instanceof Set) {
    const sub = (x: Set<Val>, y: Set<Val>): boolean => [...x].every((e) => setHas(y, e));
    if (op === 'lt') return a.size < b.size && sub(a, b);
    if (op === 'lteq') return sub(a, b);
    if (op === 'gt') return a.size > b.size && sub(b, a);
    return sub(b, a);
  }
  if (a instanceof PyDateTime && b instanceof PyDateTime) {
    const x = datetimeTimestamp(a);
    const y = datetimeTimestamp(b);
    return op === 'lt' ? x < y : op === 'lteq' ? x <= y : op === 'gt' ? x > y : x >= y;
  }
  pyRaise(
    'TypeError',
    `'${OP_SYMBOL[op]}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
  );
}

/** Python `item in container`. */
export function pyContains(container: Val, item: Val): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      pyRaise('TypeError', `'in <string>' requires string as left operand, not ${pyTypeName(item)}`);
    }
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x as Val, item));
  if (container instanceof PyTuple) return container.items.some((x) => pyEq(x, item));
  if (isDictVal(container)) return dictLookup(container, item) !== NOT_FOUND;
  if (container instanceof Set) {
    if (isUnhashable(item)) pyRaise('TypeError', `unhashable type: '${pyTypeName(item)}'`);
    return setHas(container, item);
  }
  if (container instanceof PyRange) {
    if (isIntLike(item) || (isFloat(item) && Number.isInteger(item instanceof PyFloat ? item.value : item))) {
      const n = Number(intOrFloat(item));
      if (container.length === 0) return false;
      const off = n - container.start;
      if (off % container.step !== 0) return false;
      const i = off / container.step;
      return i >= 0 && i < container.length;
    }
    return pyIterArray(container).some((x) => pyEq(x, item));
  }
  if (container instanceof Uint8Array) {
    if (isIntLike(item)) return container.includes(Number(intOf(item)));
    pyRaise('TypeError', `a bytes-like object is required, not '${pyTypeName(item)}'`);
  }
  if (container instanceof DictView) {
    if (container.kind === 'keys') return dictLookup(container.dict, item) !== NOT_FOUND;
    return pyIterArray(container).some((x) => pyEq(x, item));
  }
  if (container instanceof Undefined || container instanceof PyIter) {
    return pyIterArray(container).some((x) => pyEq(x, item));
  }
  pyRaise('TypeError', `argument of type '${pyTypeName(container)}' is not iterable`);
}

function intOrFloat(v: Val): number {
  if (v instanceof PyFloat) return v.value;
  return Number(intOf(v as number | bigint | boolean));
}

/** Ranges and other lazy sequences are not materialised beyond this many items. */
export const MAX_MATERIALIZE = 10_000_000;

/** Python `list(iter(v))`: the items a `for` loop or a filter sees. Never mutate the result. */
export function pyIterArray(v: Val): readonly Val[] {
  if (Array.isArray(v)) return v;
  switch (typeof v) {
    case 'string':
      return hasAstral(v) ? cpArray(v) : v.split('');
    case 'object':
      break;
    default:
      pyRaise('TypeError', `'${pyTypeName(v)}' object is not iterable`);
  }
  if (v instanceof PyTuple) return v.items;
  if (v instanceof Undefined) return [];
  if (v instanceof Map) return [...v.keys()];
  if (v instanceof Set) return [...v];
  if (v instanceof PyRange) {
    if (v.length > MAX_MATERIALIZE) pyRaise('MemoryError', `range of ${v.length} items is too large for a template`);
    const out = new Array<Val>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v.at(i);
    return out;
  }
  if (v instanceof PyIter) {
    const out: Val[] = [];
    for (let r = v.source.next(); !r.done; r = v.source.next()) {
      out.push(r.value);
      if (out.length > MAX_MATERIALIZE) pyRaise('MemoryError', 'iterator too large for a template');
    }
    return out;
  }
  if (v instanceof DictView) {
    const d = v.dict;
    if (v.kind === 'keys') return dictKeys(d);
    if (v.kind === 'values') return dictEntries(d).map(([, x]) => x);
    return dictEntries(d).map(([k, x]) => new PyTuple([k, x]));
  }
  if (v instanceof Uint8Array) return Array.from(v);
  if (isPlainDict(v)) return Object.keys(v);
  pyRaise('TypeError', `'${pyTypeName(v)}' object is not iterable`);
}

/** Python `len(v)`. */
export function pyLen(v: Val): number {
  if (typeof v === 'string') return cpLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof PyTuple) return v.items.length;
  if (v instanceof Undefined) return 0;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof PyRange) return v.length;
  if (v instanceof DictView) return dictSize(v.dict);
  if (v instanceof LoopContext) return v.length;
  if (v instanceof NdArray) {
    if (v.shape.length === 0) pyRaise('TypeError', 'len() of unsized object');
    return v.shape[0] as number;
  }
  if (isPlainDict(v)) return Object.keys(v).length;
  pyRaise('TypeError', `object of type '${pyTypeName(v)}' has no len()`);
}

/** An index for subscription or slicing (`__index__`): ints and bools only. */
function toIndex(v: Val, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  pyRaise('TypeError', what);
}

/** CPython `PySlice_GetIndicesEx`: [start, stop, step, length]. */
function sliceIndices(s: PySlice, len: number): [number, number, number, number] {
  const bad = 'slice indices must be integers or None or have an __index__ method';
  const none = (x: Val): boolean => x === null || x === undefined;
  const step = none(s.step) ? 1 : toIndex(s.step, bad);
  if (step === 0) pyRaise('ValueError', 'slice step cannot be zero');
  const adjust = (x: Val, dflt: number, lo: number, hi: number): number => {
    if (none(x)) return dflt;
    let i = toIndex(x, bad);
    if (i < 0) {
      i += len;
      if (i < 0) i = lo;
    } else if (i >= len) i = hi;
    return i;
  };
  const start = adjust(s.start, step < 0 ? len - 1 : 0, step < 0 ? -1 : 0, step < 0 ? len - 1 : len);
  const stop = adjust(s.stop, step < 0 ? -1 : len, step < 0 ? -1 : 0, step < 0 ? len - 1 : len);
  let n = 0;
  if (step < 0) {
    if (stop < start) n = Math.floor((start - stop - 1) / -step) + 1;
  } else if (start < stop) n = Math.floor((stop - start - 1) / step) + 1;
  return [start, stop, step, n];
}

function sliceArray<T>(items: readonly T[], s: PySlice): T[] {
  const [start, stop, step, n] = sliceIndices(s, items.length);
  if (step === 1) return items.slice(start, stop);
  const out: T[] = new Array<T>(n);
  for (let i = 0, j = start; i < n; i++, j += step) out[i] = items[j] as T;
  return out;
}

const FAIL: unique symbol = Symbol('lookup failed');

function seqIndex(len: number, key: Val | PySlice, typeName: string, strStyle: boolean): number | typeof FAIL {
  let i: number;
  if (typeof key === 'number' && Number.isInteger(key)) i = key;
  else if (typeof key === 'boolean') i = key ? 1 : 0;
  else if (typeof key === 'bigint') return failWith('IndexError', `cannot fit 'int' into an index-sized integer`);
  else {
    return failWith(
      'TypeError',
      strStyle
        ? `${typeName} indices must be integers, not '${pyTypeName(key as Val)}'`
        : `${typeName} indices must be integers or slices, not ${pyTypeName(key as Val)}`,
    );
  }
  if (i < 0) i += len;
  if (i < 0 || i >= len) return failWith('IndexError', `${typeName} index out of range`);
  return i;
}

let lastFailure: PyError | null = null;
function failWith(type: string, message: string): typeof FAIL {
  lastFailure = new PyError(type, message);
  return FAIL;
}

/**
 * Python `obj[key]`. Returns FAIL for the errors Jinja2's `getitem` swallows (TypeError,
 * LookupError); `lastFailure` then holds the error to raise when they must surface.
 */
function subscriptOrFail(obj: Val, key: Val | PySlice): Val | typeof FAIL {
  if (obj instanceof Undefined) obj.fail();
  if (Array.isArray(obj)) {
    if (key instanceof PySlice) return sliceArray(obj, key);
    const i = seqIndex(obj.length, key, 'list', false);
    return i === FAIL ? FAIL : (obj[i] as Val);
  }
  if (typeof obj === 'string') {
    if (key instanceof PySlice) {
      if (!hasAstral(obj) && (key.step === null || key.step === undefined || key.step === 1)) {
        const [start, stop, , n] = sliceIndices(key, obj.length);
        return n === 0 ? '' : obj.slice(start, stop);
      }
      return sliceArray(cpArray(obj), key).join('');
    }
    const astral = hasAstral(obj);
    const i = seqIndex(astral ? cpLength(obj) : obj.length, key, 'string', true);
    if (i === FAIL) return FAIL;
    return astral ? cpSlice(obj, i, i + 1) : (obj[i] as string);
  }
  if (isDictVal(obj)) {
    if (key instanceof PySlice) return failWith('TypeError', "unhashable type: 'slice'");
    if (isUnhashable(key)) return failWith('TypeError', `unhashable type: '${pyTypeName(key)}'`);
    const v = dictLookup(obj, key);
    return v === NOT_FOUND ? failWith('KeyError', pyRepr(key)) : v;
  }
  if (obj instanceof PyTuple) {
    if (key instanceof PySlice) return new PyTuple(sliceArray(obj.items, key));
    const i = seqIndex(obj.items.length, key, 'tuple', false);
    return i === FAIL ? FAIL : (obj.items[i] as Val);
  }
  if (obj instanceof PyRange) {
    if (key instanceof PySlice) {
      const [start, , step, n] = sliceIndices(key, obj.length);
      const first = obj.at(start);
      const st = obj.step * step;
      return new PyRange(first, first + n * st, st);
    }
    const i = seqIndex(obj.length, key, 'range object', false);
    return i === FAIL ? FAIL : obj.at(i);
  }
  if (obj instanceof Uint8Array) {
    if (key instanceof PySlice) return Uint8Array.from(sliceArray(Array.from(obj), key));
    const i = seqIndex(obj.length, key, 'index', false);
    return i === FAIL ? FAIL : (obj[i] as number);
  }
  return failWith('TypeError', `'${pyTypeName(obj)}' object is not subscriptable`);
}

/** Python `obj[key]`, raising like Python. */
export function pySubscript(obj: Val, key: Val | PySlice): Val {
  const r = subscriptOrFail(obj, key);
  if (r === FAIL) throw lastFailure as PyError;
  return r;
}

/** Jinja2 `environment.getitem(obj, key)`: item first, then attribute, else Undefined. */
export function jinjaGetitem(obj: Val, key: Val): Val {
  const r = subscriptOrFail(obj, key);
  if (r !== FAIL) return r;
  if (typeof key === 'string') {
    const a = pyAttr(obj, key);
    if (a !== NOT_FOUND) return a;
  }
  return new Undefined(null, obj, key);
}

/** Jinja2 `environment.getattr(obj, name)`: attribute first, then item, else Undefined. */
export function jinjaGetattr(obj: Val, name: string): Val {
  if (obj instanceof Undefined) obj.fail();
  const a = pyAttr(obj, name);
  if (a !== NOT_FOUND) return a;
  const r = subscriptOrFail(obj, name);
  if (r !== FAIL) return r;
  return new Undefined(null, obj, name);
}

/** Python `fn(*args, **kwargs)` for the values a template may call. */
export function pyCall(fn: Val, args: Val[], kwargs: Kwargs): Val {
  if (fn instanceof PyCallable) return fn.call(args, kwargs);
  if (fn instanceof Undefined) fn.fail();
  if (fn instanceof LoopContext) {
    pyRaise('TypeError', "Tried to call non recursive loop. Maybe you forgot the 'recursive' modifier.");
  }
  pyRaise('TypeError', `'${pyTypeName(fn)}' object is not callable`);
}

function binopError(op: string, a: Val, b: Val): never {
  pyRaise('TypeError', `unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

function failIfUndefined(a: Val, b: Val): void {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
}

/** Python `a + b`. */
export function pyAdd(a: Val, b: Val): Val {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (isNumber(a) && isNumber(b)) return numBinOp('+', a, b);
  failIfUndefined(a, b);
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return [...a, ...b];
    pyRaise('TypeError', `can only concatenate list (not "${pyTypeName(b)}") to list`);
  }
  if (a instanceof PyTuple) {
    if (b instanceof PyTuple) return new PyTuple([...a.items, ...b.items]);
    pyRaise('TypeError', `can only concatenate tuple (not "${pyTypeName(b)}") to tuple`);
  }
  if (typeof a === 'string') pyRaise('TypeError', `can only concatenate str (not "${pyTypeName(b)}") to str`);
  binopError('+', a, b);
}

function repeatCount(n: number | bigint | boolean): number {
  const c = intOf(n);
  if (typeof c === 'bigint') pyRaise('OverflowError', "cannot fit 'int' into an index-sized integer");
  return Math.max(0, c);
}

/** Python `a * b`. */
export function pyMul(a: Val, b: Val): Val {
  if (isNumber(a) && isNumber(b)) return numBinOp('*', a, b);
  failIfUndefined(a, b);
  let seq: Val = a;
  let count: Val = b;
  if (isIntLike(a) && !isIntLike(b)) {
    seq = b;
    count = a;
  }
  if (isIntLike(count)) {
    const n = repeatCount(count);
    try {
      if (typeof seq === 'string') return seq.repeat(n);
      if (Array.isArray(seq)) return repeatItems(seq, n);
      if (seq instanceof PyTuple) return new PyTuple(repeatItems(seq.items, n));
    } catch (err) {
      if (err instanceof RangeError) pyRaise('MemoryError', 'result too large');
      throw err;
    }
  }
  if (typeof seq === 'string' || Array.isArray(seq) || seq instanceof PyTuple) {
    pyRaise('TypeError', `can't multiply sequence by non-int of type '${pyTypeName(count)}'`);
  }
  binopError('*', a, b);
}

function repeatItems(items: readonly Val[], n: number): Val[] {
  if (items.length * n > MAX_MATERIALIZE) pyRaise('MemoryError', 'result too large for a template');
  const out: Val[] = [];
  for (let i = 0; i < n; i++) out.push(...items);
  return out;
}

/** Python `a - b`, `a / b`, `a // b`, `a ** b` (numbers only). */
export function pyNumOp(op: '-' | '/' | '//' | '**', a: Val, b: Val): Val {
  if (isNumber(a) && isNumber(b)) return numBinOp(op, a, b);
  failIfUndefined(a, b);
  binopError(op === '**' ? '** or pow()' : op, a, b);
}

/** Python `a % b`: modulo on numbers, printf-style formatting on a string. */
export function pyMod(a: Val, b: Val): Val {
  if (typeof a === 'string') return printf(a, b);
  if (isNumber(a) && isNumber(b)) return numBinOp('%', a, b);
  failIfUndefined(a, b);
  binopError('%', a, b);
}

/** Python unary `-v`. */
export function pyNeg(v: Val): Val {
  if (isNumber(v)) return numNeg(v);
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', `bad operand type for unary -: '${pyTypeName(v)}'`);
}

/** Python unary `+v`. */
export function pyPos(v: Val): Val {
  if (isNumber(v)) return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', `bad operand type for unary +: '${pyTypeName(v)}'`);
}

/** Jinja2 `~`: the `str()` of each operand, joined. */
export function pyConcat(parts: readonly Val[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : pyStr(p);
  return out;
}

/** The int value of an int-like `Val` (for argument checks), or a TypeError. */
export function requireInt(v: Val, what: string): PyInt {
  if (isIntLike(v)) return intOf(v);
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', `'${pyTypeName(v)}' object cannot be interpreted as an integer${what ? ` (${what})` : ''}`);
}

/** A JS `number` index from an int-like value (huge ints saturate). */
export function requireIndex(v: Val, what: string): number {
  const i = requireInt(v, what);
  if (typeof i === 'bigint') return i > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  return i;
}

/** Namespace attribute assignment (`{% set ns.attr = value %}`). */
export function namespaceSet(target: Val, attr: string, value: Val): void {
  if (!(target instanceof Namespace)) {
    pyRaise('TemplateRuntimeError', 'cannot assign attribute on non-namespace object');
  }
  target.attrs.set(attr, value);
}
