/**
 * Attributes and methods of values, as Python's `getattr` sees them (`'a'.upper()`,
 * `d.items()`, `loop.index`, `n.real`). This table *is* the sandbox: a template reaches
 * nothing that is not listed here. Mutating methods (`list.append`, `dict.update`, …) exist as
 * names, so they shadow dict keys exactly as in Python, but refuse to run: event metadata is
 * shared between actors and must not change.
 */
import { PyDateTime, PyFloat } from '../heros/values.js';
import { bindArgs, type Signature } from './py-args.js';
import { datetimeIso, datetimeParts, datetimeStrftime, datetimeTimestamp } from './py-datetime.js';
import { strFormat } from './format-spec.js';
import { intOf, mkFloat } from './py-number.js';
import {
  DictView,
  GroupTuple,
  LoopContext,
  NOT_FOUND,
  Namespace,
  PyCallable,
  PyRange,
  PyTuple,
  Undefined,
  isPlainDict,
  pyRaise,
  pyTypeName,
  type Dict,
  type Kwargs,
  type Val,
} from './py-objects.js';
import {
  dictLookup,
  pyContains,
  pyEq,
  pyIterArray,
  requireIndex,
} from './py-ops.js';
import {
  cpLength,
  cpSlice,
  hasAstral,
  isPySpace,
  pyCapitalize,
  pyCenter,
  pyCount,
  pyIsLower,
  pyIsUpper,
  pyJust,
  pyReplace,
  pyRsplitSep,
  pyRsplitWhitespace,
  pySplitSep,
  pySplitWhitespace,
  pySplitlines,
  pyStrip,
  pySwapcase,
  pyTitle,
  pyZfill,
} from './py-text.js';

type Method<T> = (self: T, args: Val[], kwargs: Kwargs) => Val;

function sig(name: string, params: string[], defaults: Val[] = [], extra: Partial<Signature> = {}): Signature {
  return { name, params, defaults, positionalOnly: true, ...extra };
}

function unsupported(typeName: string, name: string): Method<unknown> {
  return () => pyRaise('TypeError', `${typeName}.${name}() is not supported in templates`);
}

function requireStr(v: Val, what: string): string {
  if (typeof v === 'string') return v;
  pyRaise('TypeError', `${what} must be str, not ${pyTypeName(v)}`);
}

function optChars(v: Val, name: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  pyRaise('TypeError', `${name} arg must be None or str`);
}

function fillChar(v: Val): string {
  if (typeof v === 'string' && cpLength(v) === 1) return v;
  pyRaise('TypeError', 'The fill character must be exactly one character long');
}

/** Python's (start, end) slice arguments of `find`/`count`/`startswith`, clamped. */
function span(len: number, start: Val, end: Val): [number, number] {
  const none = (x: Val): boolean => x === null || x === undefined;
  let s = none(start) ? 0 : requireIndex(start, 'slice index');
  let e = none(end) ? len : requireIndex(end, 'slice index');
  if (s < 0) s = Math.max(0, s + len);
  if (e < 0) e = Math.max(0, e + len);
  return [Math.min(s, len), Math.min(e, len)];
}

/** Runs `fn` on `s[start:end]`, by code point. */
function onSpan(s: string, start: Val, end: Val): [string, number] {
  const len = cpLength(s);
  const [a, b] = span(len, start, end);
  if (a > b) return ['\u0000MISSING', a];
  return [cpSlice(s, a, b), a];
}

function cpIndexOf(hay: string, needle: string, fromEnd: boolean): number {
  const k = fromEnd ? hay.lastIndexOf(needle) : hay.indexOf(needle);
  if (k < 0 || !hasAstral(hay)) return k;
  return cpLength(hay.slice(0, k));
}

function find(s: string, args: Val[], name: string, fromEnd: boolean, raise: boolean): Val {
  const [sub, start, end] = bindArgs(sig(name, ['sub', 'start', 'end'], [null, null]), args, null).values;
  const needle = requireStr(sub as Val, 'must be str');
  const [hay, offset] = onSpan(s, start as Val, end as Val);
  const k = hay === '\u0000MISSING' ? -1 : cpIndexOf(hay, needle, fromEnd);
  if (k < 0) {
    if (raise) pyRaise('ValueError', 'substring not found');
    return -1;
  }
  return k + offset;
}

function affix(s: string, args: Val[], name: string, atEnd: boolean): boolean {
  const [what, start, end] = bindArgs(sig(name, ['prefix', 'start', 'end'], [null, null]), args, null).values;
  const [hay] = onSpan(s, start as Val, end as Val);
  if (hay === '\u0000MISSING') return false;
  const test = (x: Val): boolean => {
    if (typeof x !== 'string') {
      pyRaise('TypeError', `${name} first arg must be str or a tuple of str, not ${pyTypeName(x)}`);
    }
    return atEnd ? hay.endsWith(x) : hay.startsWith(x);
  };
  if (what instanceof PyTuple) return what.items.some(test);
  return test(what as Val);
}

const RE_ALPHA = /^\p{L}+$/u;
const RE_DECIMAL = /^\p{Nd}+$/u;
const RE_DIGIT = /^[\p{Nd}\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c\u2488-\u2490]+$/u;
const RE_NUMERIC = /^[\p{Nd}\p{Nl}\p{No}]+$/u;
const RE_ALNUM = /^[\p{L}\p{Nd}\p{Nl}\p{No}]+$/u;
const RE_IDENT = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;
const RE_NONPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function isTitle(s: string): boolean {
  let cased = false;
  let prevCased = false;
  for (const ch of s) {
    const upper = ch !== ch.toLowerCase();
    const lower = ch !== ch.toUpperCase();
    if (upper) {
      if (prevCased) return false;
      prevCased = true;
      cased = true;
    } else if (lower) {
      if (!prevCased) return false;
      prevCased = true;
      cased = true;
    } else prevCased = false;
  }
  return cased;
}

function noArgs(name: string, f: (s: string) => Val): Method<string> {
  return (s, args, kw) => {
    bindArgs(sig(name, []), args, kw);
    return f(s);
  };
}

function strPredicate(name: string, f: (s: string) => boolean): Method<string> {
  return noArgs(name, f);
}

function partition(s: string, sepV: Val, fromEnd: boolean): PyTuple {
  const sep = requireStr(sepV, 'must be str');
  if (sep === '') pyRaise('ValueError', 'empty separator');
  const k = fromEnd ? s.lastIndexOf(sep) : s.indexOf(sep);
  if (k < 0) return fromEnd ? new PyTuple(['', '', s]) : new PyTuple([s, '', '']);
  return new PyTuple([s.slice(0, k), sep, s.slice(k + sep.length)]);
}

function split(s: string, args: Val[], kw: Kwargs, fromEnd: boolean): Val[] {
  const name = fromEnd ? 'rsplit' : 'split';
  const [sepV, maxV] = bindArgs({ name, params: ['sep', 'maxsplit'], defaults: [null, -1] }, args, kw).values;
  const max = requireIndex(maxV as Val, 'maxsplit');
  if (sepV === null || sepV === undefined) {
    return fromEnd ? pyRsplitWhitespace(s, max) : pySplitWhitespace(s, max);
  }
  const sep = requireStr(sepV as Val, 'must be str or None');
  if (sep === '') pyRaise('ValueError', 'empty separator');
  return fromEnd ? pyRsplitSep(s, sep, max) : pySplitSep(s, sep, max);
}

function expandtabs(s: string, tabsize: number): string {
  let out = '';
  let col = 0;
  for (const ch of s) {
    if (ch === '\t') {
      if (tabsize > 0) {
        const n = tabsize - (col % tabsize);
        out += ' '.repeat(n);
        col += n;
      }
    } else {
      out += ch;
      col = ch === '\n' || ch === '\r' ? 0 : col + 1;
    }
  }
  return out;
}

const STR_METHODS = new Map<string, Method<string>>([
  ['capitalize', noArgs('capitalize', pyCapitalize)],
  ['casefold', noArgs('casefold', (s) => s.toLowerCase().replaceAll('ß', 'ss'))],
  ['center', (s, a) => {
    const [w, f] = bindArgs(sig('center', ['width', 'fillchar'], [' ']), a, null).values;
    return pyCenter(s, requireIndex(w as Val, 'width'), fillChar(f as Val));
  }],
  ['count', (s, a) => {
    const [sub, start, end] = bindArgs(sig('count', ['sub', 'start', 'end'], [null, null]), a, null).values;
    const [hay] = onSpan(s, start as Val, end as Val);
    if (hay === '\u0000MISSING') return 0;
    return pyCount(hay, requireStr(sub as Val, 'must be str'));
  }],
  ['encode', (s, a, kw) => {
    const [enc, errors] = bindArgs({ name: 'encode', params: ['encoding', 'errors'], defaults: ['utf-8', 'strict'] }, a, kw).values;
    return encode(s, requireStr(enc as Val, 'encode() argument \'encoding\''), requireStr(errors as Val, 'encode() argument \'errors\''));
  }],
  ['endswith', (s, a) => affix(s, a, 'endswith', true)],
  ['expandtabs', (s, a, kw) => {
    const [t] = bindArgs({ name: 'expandtabs', params: ['tabsize'], defaults: [8] }, a, kw).values;
    return expandtabs(s, requireIndex(t as Val, 'tabsize'));
  }],
  ['find', (s, a) => find(s, a, 'find', false, false)],
  ['format', (s, a, kw) => strFormat(s, a, kw ?? new Map())],
  ['format_map', (s, a) => {
    const [m] = bindArgs(sig('format_map', ['mapping']), a, null).values;
    return strFormat(s, [], m as Val);
  }],
  ['index', (s, a) => find(s, a, 'index', false, true)],
  ['isalnum', strPredicate('isalnum', (s) => RE_ALNUM.test(s))],
  ['isalpha', strPredicate('isalpha', (s) => RE_ALPHA.test(s))],
  ['isascii', strPredicate('isascii', (s) => [...s].every((c) => (c.codePointAt(0) as number) < 0x80))],
  ['isdecimal', strPredicate('isdecimal', (s) => RE_DECIMAL.test(s))],
  ['isdigit', strPredicate('isdigit', (s) => RE_DIGIT.test(s))],
  ['isidentifier', strPredicate('isidentifier', (s) => RE_IDENT.test(s))],
  ['islower', strPredicate('islower', pyIsLower)],
  ['isnumeric', strPredicate('isnumeric', (s) => RE_NUMERIC.test(s))],
  ['isprintable', strPredicate('isprintable', (s) => !RE_NONPRINTABLE.test(s.replaceAll(' ', '')))],
  ['isspace', strPredicate('isspace', (s) => s.length > 0 && [...s].every(isPySpace))],
  ['istitle', strPredicate('istitle', isTitle)],
  ['isupper', strPredicate('isupper', pyIsUpper)],
  ['join', (s, a) => {
    const [it] = bindArgs(sig('join', ['iterable']), a, null).values;
    const items = pyIterArray(it as Val);
    items.forEach((x, i) => {
      if (typeof x !== 'string') {
        pyRaise('TypeError', `sequence item ${i}: expected str instance, ${pyTypeName(x)} found`);
      }
    });
    return (items as string[]).join(s);
  }],
  ['ljust', (s, a) => {
    const [w, f] = bindArgs(sig('ljust', ['width', 'fillchar'], [' ']), a, null).values;
    return pyJust(s, requireIndex(w as Val, 'width'), fillChar(f as Val), true);
  }],
  ['lower', noArgs('lower', (s) => s.toLowerCase())],
  ['lstrip', (s, a) => pyStrip(s, optChars(bindArgs(sig('lstrip', ['chars'], [null]), a, null).values[0] as Val, 'lstrip'), true, false)],
  ['maketrans', unsupported('str', 'maketrans')],
  ['partition', (s, a) => partition(s, bindArgs(sig('partition', ['sep']), a, null).values[0] as Val, false)],
  ['removeprefix', (s, a) => {
    const p = requireStr(bindArgs(sig('removeprefix', ['prefix']), a, null).values[0] as Val, 'removeprefix() argument');
    return p !== '' && s.startsWith(p) ? s.slice(p.length) : s;
  }],
  ['removesuffix', (s, a) => {
    const p = requireStr(bindArgs(sig('removesuffix', ['suffix']), a, null).values[0] as Val, 'removesuffix() argument');
    return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }],
  ['replace', (s, a) => {
    const [o, n, c] = bindArgs(sig('replace', ['old', 'new', 'count'], [-1]), a, null).values;
    return pyReplace(s, requireStr(o as Val, 'replace() argument 1'), requireStr(n as Val, 'replace() argument 2'), requireIndex(c as Val, 'count'));
  }],
  ['rfind', (s, a) => find(s, a, 'rfind', true, false)],
  ['rindex', (s, a) => find(s, a, 'rindex', true, true)],
  ['rjust', (s, a) => {
    const [w, f] = bindArgs(sig('rjust', ['width', 'fillchar'], [' ']), a, null).values;
    return pyJust(s, requireIndex(w as Val, 'width'), fillChar(f as Val), false);
  }],
  ['rpartition', (s, a) => partition(s, bindArgs(sig('rpartition', ['sep']), a, null).values[0] as Val, true)],
  ['rsplit', (s, a, kw) => split(s, a, kw, true)],
  ['rstrip', (s, a) => pyStrip(s, optChars(bindArgs(sig('rstrip', ['chars'], [null]), a, null).values[0] as Val, 'rstrip'), false, true)],
  ['split', (s, a, kw) => split(s, a, kw, false)],
  ['splitlines', (s, a, kw) => {
    const [k] = bindArgs({ name: 'splitlines', params: ['keepends'], defaults: [false] }, a, kw).values;
    return pySplitlines(s, k === true || (typeof k === 'number' && k !== 0));
  }],
  ['startswith', (s, a) => affix(s, a, 'startswith', false)],
  ['strip', (s, a) => pyStrip(s, optChars(bindArgs(sig('strip', ['chars'], [null]), a, null).values[0] as Val, 'strip'), true, true)],
  ['swapcase', noArgs('swapcase', pySwapcase)],
  ['title', noArgs('title', pyTitle)],
  ['translate', unsupported('str', 'translate')],
  ['upper', noArgs('upper', (s) => s.toUpperCase())],
  ['zfill', (s, a) => pyZfill(s, requireIndex(bindArgs(sig('zfill', ['width']), a, null).values[0] as Val, 'width'))],
]);

function codecName(encoding: string): string {
  const e = encoding.toLowerCase().replaceAll('_', '-');
  if (e === 'utf-8' || e === 'utf8') return 'utf-8';
  if (e === 'ascii' || e === 'us-ascii') return 'ascii';
  if (e === 'latin-1' || e === 'latin1' || e === 'iso-8859-1' || e === 'iso8859-1') return 'latin-1';
  pyRaise('LookupError', `unknown encoding: ${encoding}`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Python `str.encode` for UTF-8, ASCII and Latin-1. */
function encode(s: string, encoding: string, errors: string): Uint8Array {
  const codec = codecName(encoding);
  if (codec === 'utf-8') {
    if (errors === 'strict' && LONE_SURROGATE.test(s)) {
      pyRaise('UnicodeEncodeError', "'utf-8' codec can't encode surrogates: surrogates not allowed");
    }
    return new TextEncoder().encode(s);
  }
  const limit = codec === 'ascii' ? 0x80 : 0x100;
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < limit) out.push(cp);
    else if (errors === 'ignore') continue;
    else if (errors === 'replace') out.push(0x3f);
    else pyRaise('UnicodeEncodeError', `'${codec === 'ascii' ? 'ascii' : 'latin-1'}' codec can't encode character`);
  }
  return Uint8Array.from(out);
}

/** Python `bytes.decode` for UTF-8, ASCII and Latin-1. */
function decode(b: Uint8Array, encoding: string, errors: string): string {
  const codec = codecName(encoding);
  if (codec === 'utf-8') {
    try {
      return new TextDecoder('utf-8', { fatal: errors === 'strict' }).decode(b);
    } catch {
      pyRaise('UnicodeDecodeError', "'utf-8' codec can't decode bytes");
    }
  }
  let out = '';
  for (const c of b) {
    if (codec === 'ascii' && c >= 0x80) {
      if (errors === 'ignore') continue;
      if (errors === 'replace') out += '\ufffd';
      else pyRaise('UnicodeDecodeError', "'ascii' codec can't decode byte");
    } else out += String.fromCharCode(c);
  }
  return out;
}

function dictCopy(d: Dict): Dict {
  return d instanceof Map ? new Map(d) : { ...d };
}

const DICT_METHODS = new Map<string, Method<Dict>>([
  ['clear', unsupported('dict', 'clear')],
  ['copy', (d, a) => (bindArgs(sig('copy', []), a, null), dictCopy(d))],
  ['fromkeys', unsupported('dict', 'fromkeys')],
  ['get', (d, a) => {
    const [k, dflt] = bindArgs(sig('get', ['key', 'default'], [null]), a, null).values;
    const v = dictLookup(d, k as Val);
    return v === NOT_FOUND ? (dflt as Val) : v;
  }],
  ['items', (d, a) => (bindArgs(sig('items', []), a, null), new DictView('items', d))],
  ['keys', (d, a) => (bindArgs(sig('keys', []), a, null), new DictView('keys', d))],
  ['pop', unsupported('dict', 'pop')],
  ['popitem', unsupported('dict', 'popitem')],
  ['setdefault', unsupported('dict', 'setdefault')],
  ['update', unsupported('dict', 'update')],
  ['values', (d, a) => (bindArgs(sig('values', []), a, null), new DictView('values', d))],
]);

function seqIndex(items: readonly Val[], a: Val[], name: string): number {
  const [x, start, end] = bindArgs(sig('index', ['value', 'start', 'stop'], [null, null]), a, null).values;
  const [s, e] = span(items.length, start as Val, end as Val);
  for (let i = s; i < e; i++) if (pyEq(items[i] as Val, x as Val)) return i;
  pyRaise('ValueError', `${name}.index(x): x not in ${name}`);
}

function seqCount(items: readonly Val[], a: Val[]): number {
  const [x] = bindArgs(sig('count', ['value']), a, null).values;
  return items.filter((y) => pyEq(y, x as Val)).length;
}

const LIST_METHODS = new Map<string, Method<Val[]>>([
  ['append', unsupported('list', 'append')],
  ['clear', unsupported('list', 'clear')],
  ['copy', (l, a) => (bindArgs(sig('copy', []), a, null), l.slice())],
  ['count', (l, a) => seqCount(l, a)],
  ['extend', unsupported('list', 'extend')],
  ['index', (l, a) => seqIndex(l, a, 'list')],
  ['insert', unsupported('list', 'insert')],
  ['pop', unsupported('list', 'pop')],
  ['remove', unsupported('list', 'remove')],
  ['reverse', unsupported('list', 'reverse')],
  ['sort', unsupported('list', 'sort')],
]);

const TUPLE_METHODS = new Map<string, Method<PyTuple>>([
  ['count', (t, a) => seqCount(t.items, a)],
  ['index', (t, a) => seqIndex(t.items, a, 'tuple')],
]);

type IntVal = number | bigint | boolean;

const INT_ATTRS = new Map<string, (i: IntVal) => Val>([
  ['real', (i) => intOf(i)],
  ['imag', () => 0],
  ['numerator', (i) => intOf(i)],
  ['denominator', () => 1],
  ['as_integer_ratio', (i) => method('as_integer_ratio', 'int', (a) => (bindArgs(sig('as_integer_ratio', []), a, null), new PyTuple([intOf(i), 1])))],
  ['bit_count', (i) => method('bit_count', 'int', (a) => {
    bindArgs(sig('bit_count', []), a, null);
    const b = BigInt(intOf(i));
    return [...(b < 0n ? -b : b).toString(2)].filter((c) => c === '1').length;
  })],
  ['bit_length', (i) => method('bit_length', 'int', (a) => {
    bindArgs(sig('bit_length', []), a, null);
    const b = BigInt(intOf(i));
    return b === 0n ? 0 : (b < 0n ? -b : b).toString(2).length;
  })],
  ['conjugate', (i) => method('conjugate', 'int', (a) => (bindArgs(sig('conjugate', []), a, null), intOf(i)))],
  ['from_bytes', () => method('from_bytes', 'int', unsupported('int', 'from_bytes') as never)],
  ['to_bytes', () => method('to_bytes', 'int', unsupported('int', 'to_bytes') as never)],
]);

const FLOAT_ATTRS = new Map<string, (x: number) => Val>([
  ['real', (x) => mkFloat(x)],
  ['imag', () => mkFloat(0)],
  ['is_integer', (x) => method('is_integer', 'float', (a) => (bindArgs(sig('is_integer', []), a, null), Number.isInteger(x)))],
  ['conjugate', (x) => method('conjugate', 'float', (a) => (bindArgs(sig('conjugate', []), a, null), mkFloat(x)))],
  ['as_integer_ratio', () => method('as_integer_ratio', 'float', unsupported('float', 'as_integer_ratio') as never)],
  ['fromhex', () => method('fromhex', 'float', unsupported('float', 'fromhex') as never)],
  ['hex', () => method('hex', 'float', unsupported('float', 'hex') as never)],
]);

const SET_METHOD_NAMES = [
  'add', 'clear', 'copy', 'difference', 'difference_update', 'discard', 'intersection',
  'intersection_update', 'isdisjoint', 'issubset', 'issuperset', 'pop', 'remove',
  'symmetric_difference', 'symmetric_difference_update', 'union', 'update',
];
const BYTES_METHOD_NAMES = [
  'capitalize', 'center', 'count', 'decode', 'endswith', 'expandtabs', 'find', 'fromhex', 'hex',
  'index', 'isalnum', 'isalpha', 'isascii', 'isdigit', 'islower', 'isspace', 'istitle', 'isupper',
  'join', 'ljust', 'lower', 'lstrip', 'maketrans', 'partition', 'removeprefix', 'removesuffix',
  'replace', 'rfind', 'rindex', 'rjust', 'rpartition', 'rsplit', 'rstrip', 'split', 'splitlines',
  'startswith', 'strip', 'swapcase', 'title', 'translate', 'upper', 'zfill',
];

function method(name: string, typeName: string, f: (args: Val[], kwargs: Kwargs) => Val): PyCallable {
  return new PyCallable(name, f, `<built-in method ${name} of ${typeName} object>`);
}

function bindMethod<T>(table: Map<string, Method<T>>, self: T, name: string, typeName: string): Val | typeof NOT_FOUND {
  const m = table.get(name);
  if (m === undefined) return NOT_FOUND;
  return method(name, typeName, (args, kwargs) => m(self, args, kwargs));
}

function loopAttr(loop: LoopContext, name: string): Val | typeof NOT_FOUND {
  const i = loop.index0;
  const n = loop.length;
  switch (name) {
    case 'index':
      return i + 1;
    case 'index0':
      return i;
    case 'revindex':
      return n - i;
    case 'revindex0':
      return n - i - 1;
    case 'first':
      return i === 0;
    case 'last':
      return i === n - 1;
    case 'length':
      return n;
    case 'depth':
      return 1;
    case 'depth0':
      return 0;
    case 'previtem':
      return i > 0 ? (loop.items[i - 1] as Val) : new Undefined('there is no previous item');
    case 'nextitem':
      return i < n - 1 ? (loop.items[i + 1] as Val) : new Undefined('there is no next item');
    case 'cycle':
      return method('cycle', 'LoopContext', (args) => {
        if (args.length === 0) pyRaise('TypeError', 'no items for cycling given');
        return args[i % args.length] as Val;
      });
    case 'changed':
      return method('changed', 'LoopContext', (args) => loop.changed(args, pyEq));
    default:
      return NOT_FOUND;
  }
}

function datetimeAttr(d: PyDateTime, name: string): Val | typeof NOT_FOUND {
  switch (name) {
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
    case 'minute':
    case 'second':
    case 'microsecond':
      return datetimeParts(d)[name];
    case 'isoformat':
      return method('isoformat', 'datetime.datetime', (a, kw) => {
        const [sep] = bindArgs({ name: 'isoformat', params: ['sep'], defaults: ['T'] }, a, kw).values;
        return datetimeIso(d, requireStr(sep as Val, 'isoformat() argument 1'));
      });
    case 'strftime':
      return method('strftime', 'datetime.datetime', (a) => {
        const [f] = bindArgs(sig('strftime', ['format']), a, null).values;
        return datetimeStrftime(d, requireStr(f as Val, 'strftime() argument 1'));
      });
    case 'timestamp':
      return method('timestamp', 'datetime.datetime', (a) => (bindArgs(sig('timestamp', []), a, null), mkFloat(datetimeTimestamp(d))));
    case 'weekday':
    case 'isoweekday':
      return method(name, 'datetime.datetime', (a) => {
        bindArgs(sig(name, []), a, null);
        const p = datetimeParts(d);
        const wd = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7;
        return name === 'weekday' ? wd : wd + 1;
      });
    default:
      return NOT_FOUND;
  }
}

function rangeAttr(r: PyRange, name: string): Val | typeof NOT_FOUND {
  switch (name) {
    case 'start':
      return r.start;
    case 'stop':
      return r.stop;
    case 'step':
      return r.step;
    case 'count':
      return method('count', 'range', (a) => {
        const [x] = bindArgs(sig('count', ['value']), a, null).values;
        return pyContains(r, x as Val) ? 1 : 0;
      });
    case 'index':
      return method('index', 'range', (a) => {
        const [x] = bindArgs(sig('index', ['value']), a, null).values;
        if (!pyContains(r, x as Val)) pyRaise('ValueError', `${String(x)} is not in range`);
        return (Number(x) - r.start) / r.step;
      });
    default:
      return NOT_FOUND;
  }
}

/**
 * Python `getattr(obj, name)` restricted to the attributes above; NOT_FOUND when Python would
 * raise AttributeError — or when the name is private (`_x`, `__class__`), which a sandbox must
 * never hand out.
 */
export function pyAttr(obj: Val, name: string): Val | typeof NOT_FOUND {
  if (obj instanceof Namespace) return obj.attrs.has(name) ? (obj.attrs.get(name) as Val) : NOT_FOUND;
  if (name.startsWith('_')) return NOT_FOUND;
  switch (typeof obj) {
    case 'string':
      return bindMethod(STR_METHODS, obj, name, 'str');
    case 'number':
      if (Number.isInteger(obj)) {
        const f = INT_ATTRS.get(name);
        return f === undefined ? NOT_FOUND : f(obj);
      } else {
        const f = FLOAT_ATTRS.get(name);
        return f === undefined ? NOT_FOUND : f(obj);
      }
    case 'bigint':
    case 'boolean': {
      const f = INT_ATTRS.get(name);
      return f === undefined ? NOT_FOUND : f(obj);
    }
    case 'object':
      break;
    default:
      return NOT_FOUND;
  }
  if (obj === null) return NOT_FOUND;
  if (obj instanceof PyFloat) {
    const f = FLOAT_ATTRS.get(name);
    return f === undefined ? NOT_FOUND : f(obj.value);
  }
  if (Array.isArray(obj)) return bindMethod(LIST_METHODS, obj, name, 'list');
  if (obj instanceof PyTuple) {
    if (obj instanceof GroupTuple) {
      if (name === 'grouper') return obj.items[0] as Val;
      if (name === 'list') return obj.items[1] as Val;
    }
    return bindMethod(TUPLE_METHODS, obj, name, 'tuple');
  }
  if (obj instanceof Map || isPlainDict(obj)) return bindMethod(DICT_METHODS, obj as Dict, name, 'dict');
  if (obj instanceof LoopContext) return loopAttr(obj, name);
  if (obj instanceof PyRange) return rangeAttr(obj, name);
  if (obj instanceof PyDateTime) return datetimeAttr(obj, name);
  if (obj instanceof Set) {
    return SET_METHOD_NAMES.includes(name) ? method(name, 'set', unsupported('set', name) as never) : NOT_FOUND;
  }
  if (obj instanceof Uint8Array) {
    if (name === 'decode') {
      return method('decode', 'bytes', (a, kw) => {
        const [enc, errors] = bindArgs({ name: 'decode', params: ['encoding', 'errors'], defaults: ['utf-8', 'strict'] }, a, kw).values;
        return decode(obj, requireStr(enc as Val, "decode() argument 'encoding'"), requireStr(errors as Val, "decode() argument 'errors'"));
      });
    }
    return BYTES_METHOD_NAMES.includes(name) ? method(name, 'bytes', unsupported('bytes', name) as never) : NOT_FOUND;
  }
  return NOT_FOUND;
}
