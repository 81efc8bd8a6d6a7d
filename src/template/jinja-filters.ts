/**
 * Jinja2's built-in filters, ported from `jinja2/filters.py` (3.1) onto the Python value
 * semantics of this folder. Filters Jinja2 has but this port does not (`pprint`, `striptags`,
 * `urlize`, `wordwrap`, `xmlattr`) are listed in {@link UNSUPPORTED_FILTERS} so a template
 * using them is rejected when it is compiled rather than rendering something else.
 */
import { PyFloat } from '../heros/values.js';
import { bindArgs, type Bound, type Signature } from './py-args.js';
import { floatOfValue, intFromStr, intOfValue } from './py-convert.js';
import { roundFloat } from './float-format.js';
import { pyFormat } from './format-spec.js';
import { floorCeil, isIntLike, isNumber, intOf, mkFloat, normBig, numAbs, truncFloat } from './py-number.js';
import {
  GroupTuple,
  NOT_FOUND,
  PyError,
  PyIter,
  PyRange,
  PyTuple,
  Undefined,
  isDict,
  pyRaise,
  pyTypeName,
  type Kwargs,
  type Val,
} from './py-objects.js';
import {
  dictEntries,
  jinjaGetattr,
  jinjaGetitem,
  pyAdd,
  pyBool,
  pyEq,
  pyIterArray,
  pyLen,
  pyMul,
  pyNumOp,
  pyOrder,
  requireIndex,
  requireInt,
} from './py-ops.js';
import { pyAttr } from './py-methods.js';
import { printf } from './printf.js';
import { pyStr } from './py-str.js';
import { callTest, testHooks } from './jinja-tests.js';
import {
  cpArray,
  cpSlice,
  hasAstral,
  pyCapitalize,
  pyCenter,
  pyReplace,
  pySplitlines,
  pyStrip,
} from './py-text.js';

/** A filter: its signature after the filtered value, and its body. */
export interface FilterDef {
  readonly sig: Signature;
  readonly fn: (value: Val, b: Bound) => Val;
}

function def(name: string, params: string[], defaults: Val[], fn: (value: Val, b: Bound) => Val, extra: Partial<Signature> = {}): FilterDef {
  return { sig: { name, params, defaults, ...extra }, fn };
}

function arg(b: Bound, i: number): Val {
  return b.values[i] as Val;
}

/** Jinja2's `soft_str`: `str()` (Undefined → ''). */
const softStr = pyStr;

function lowerIfStr(v: Val): Val {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

const DIGITS_RE = /^\d+$/;

/** Jinja2 `_prepare_attribute_parts`. */
function attributeParts(attr: Val): Val[] {
  if (attr === null || attr === undefined) return [];
  if (typeof attr === 'string') return attr.split('.').map((x) => (DIGITS_RE.test(x) ? Number(x) : x));
  return [attr];
}

/** Jinja2 `make_attrgetter`. */
function attrGetter(attr: Val, post: ((v: Val) => Val) | null, dflt: Val = null): (item: Val) => Val {
  const parts = attributeParts(attr);
  return (item) => {
    let v = item;
    for (const p of parts) {
      v = jinjaGetitem(v, p);
      if (dflt !== null && dflt !== undefined && v instanceof Undefined) v = dflt;
    }
    return post === null ? v : post(v);
  };
}

/** Jinja2 `make_multi_attrgetter` (comma-separated attributes → list of keys). */
function multiAttrGetter(attr: Val, post: ((v: Val) => Val) | null): (item: Val) => Val {
  const split = typeof attr === 'string' ? attr.split(',') : [attr];
  const getters = split.map((a) => attrGetter(a, post));
  return (item) => getters.map((g) => g(item));
}

/** Python `sorted(items, key=key, reverse=reverse)`: stable, `<` only. */
function pySorted(items: readonly Val[], key: (v: Val) => Val, reverse: boolean): Val[] {
  const keyed = items.map((v) => ({ v, k: key(v) }));
  const cmp = (a: { k: Val }, b: { k: Val }): number => (pyOrder('lt', a.k, b.k) ? -1 : pyOrder('lt', b.k, a.k) ? 1 : 0);
  if (reverse) {
    // Python keeps equal items in their original order even when reversing.
    keyed.sort((a, b) => cmp(b, a));
  } else keyed.sort(cmp);
  return keyed.map((x) => x.v);
}

/** Python `min`/`max` with a key: first extreme item wins. */
function extreme(items: readonly Val[], key: (v: Val) => Val, max: boolean): Val {
  let best = items[0] as Val;
  let bestKey = key(best);
  for (let i = 1; i < items.length; i++) {
    const v = items[i] as Val;
    const k = key(v);
    if (max ? pyOrder('gt', k, bestKey) : pyOrder('lt', k, bestKey)) {
      best = v;
      bestKey = k;
    }
  }
  return best;
}

function generator(typeName: string, items: Iterable<Val>): PyIter {
  return new PyIter(typeName, items[Symbol.iterator]());
}

/** Iterates lazily over a value (generators are consumed item by item, as in Python). */
function* iterate(v: Val): Generator<Val> {
  if (v instanceof PyIter) {
    for (let r = v.source.next(); !r.done; r = v.source.next()) yield r.value;
    return;
  }
  yield* pyIterArray(v);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const HTML_RE = /[&<>"']/g;

function htmlEscape(s: string): string {
  return s.replace(HTML_RE, (c) => HTML_ESCAPES[c] as string);
}

/** Jinja2's `([-\s({\[<]+)` with Python's notion of whitespace. */
const TITLE_SPLIT = /([-\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000({[<]+)/u;

function jinjaTitle(s: string): string {
  return s
    .split(TITLE_SPLIT)
    .filter((x) => x !== '')
    .map((item) => {
      const first = String.fromCodePoint(item.codePointAt(0) as number);
      return first.toUpperCase() + item.slice(first.length).toLowerCase();
    })
    .join('');
}

function doRound(value: Val, precision: Val, method: Val): Val {
  if (method !== 'common' && method !== 'ceil' && method !== 'floor') {
    pyRaise('FilterArgumentError', 'method must be common, ceil or floor');
  }
  if (method === 'common') {
    const p = requireInt(precision, '');
    if (isIntLike(value)) {
      const i = intOf(value);
      if (p >= 0) return i;
      if (p < -100_000) return 0;
      // round(int, -n): half-to-even at 10**n, exactly.
      const unit = 10n ** BigInt(-p);
      const b = BigInt(i);
      let q = b / unit;
      let r = b % unit;
      if (r < 0n) {
        r += unit;
        q -= 1n;
      }
      if (r * 2n > unit || (r * 2n === unit && q % 2n !== 0n)) q += 1n;
      return normBig(q * unit);
    }
    if (value instanceof PyFloat || typeof value === 'number') {
      const x = value instanceof PyFloat ? value.value : value;
      return mkFloat(roundFloat(x, Number(p)));
    }
    pyRaise('TypeError', `type ${pyTypeName(value)} doesn't define __round__ method`);
  }
  const scale = pyNumOp('**', 10, precision);
  const scaled = pyMul(value, scale);
  const f = floorCeil(scaled, method === 'ceil');
  return pyNumOp('/', f, scale);
}

function doInt(value: Val, dflt: Val, base: Val): Val {
  try {
    if (typeof value === 'string') return intFromStr(value, requireIndex(base, ''));
    return intOfValue(value);
  } catch (err) {
    if (!isTypeOrValueError(err)) throw err;
    try {
      return truncFloat(floatOfValue(value));
    } catch (err2) {
      if (err2 instanceof PyError && (err2.pyType === 'OverflowError' || isTypeOrValueError(err2))) return dflt;
      throw err2;
    }
  }
}

function isTypeOrValueError(err: unknown): boolean {
  return err instanceof PyError && (err.pyType === 'TypeError' || err.pyType === 'ValueError');
}

function doFloat(value: Val, dflt: Val): Val {
  try {
    return mkFloat(floatOfValue(value));
  } catch (err) {
    if (isTypeOrValueError(err)) return dflt;
    throw err;
  }
}

function doTruncate(s: Val, length: Val, killwords: Val, end: Val, leeway: Val): Val {
  const lw = leeway === null || leeway === undefined ? 5 : requireIndex(leeway, 'leeway');
  const len = requireIndex(length, 'length');
  const e = end as Val;
  const endLen = pyLen(e);
  if (!(len >= endLen)) pyRaise('AssertionError', `expected length >= ${endLen}, got ${len}`);
  if (!(lw >= 0)) pyRaise('AssertionError', `expected leeway >= 0, got ${lw}`);
  if (pyLen(s) <= len + lw) return s;
  const str = s as string;
  const head = cpSlice(str, 0, Math.max(0, len - endLen));
  if (pyBool(killwords)) return pyAdd(head, e);
  const k = head.lastIndexOf(' ');
  return pyAdd(k < 0 ? head : head.slice(0, k), e);
}

function doFilesize(value: Val, binary: Val): Val {
  const bytes = floatOfValue(value);
  const bin = pyBool(binary);
  const base = bin ? 1024 : 1000;
  const prefixes = bin
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${pyStr(truncFloat(bytes))} Bytes`;
  let unit = 0;
  let prefix = '';
  for (let i = 0; i < prefixes.length; i++) {
    unit = base ** (i + 2);
    prefix = prefixes[i] as string;
    if (bytes < unit) break;
  }
  return `${pyFormat(mkFloat((base * bytes) / unit), '.1f')} ${prefix}`;
}

const URL_SAFE = /[A-Za-z0-9_.\-~]/;

function urlQuote(v: Val, forQs: boolean): string {
  const bytes = v instanceof Uint8Array ? v : new TextEncoder().encode(pyStr(v));
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (b < 0x80 && (URL_SAFE.test(ch) || (!forQs && ch === '/'))) out += ch;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return forQs ? out.replaceAll('%20', '+') : out;
}

function doUrlencode(value: Val): Val {
  const iterableValue = !(typeof value === 'string') && isIterable(value);
  if (!iterableValue) return urlQuote(value, false);
  const items: Val[] = isDict(value) ? dictEntries(value).map(([k, v]) => new PyTuple([k, v])) : [...iterate(value)];
  return items
    .map((it) => {
      const pair = [...iterate(it)];
      if (pair.length !== 2) pyRaise('ValueError', `too many values to unpack (expected 2)`);
      return `${urlQuote(pair[0] as Val, true)}=${urlQuote(pair[1] as Val, true)}`;
    })
    .join('&');
}

function isIterable(v: Val): boolean {
  if (v instanceof PyIter || v instanceof Undefined) return true;
  try {
    pyIterArray(v);
    return true;
  } catch {
    return false;
  }
}

/** Python `json.dumps(v, sort_keys=True, indent=indent)` then Jinja2's HTML-safe escapes. */
function toJson(v: Val, indent: number | null, level: number): string {
  const nl = indent === null ? '' : `\n${' '.repeat(indent * (level + 1))}`;
  const close = indent === null ? '' : `\n${' '.repeat(indent * level)}`;
  const itemSep = indent === null ? ', ' : ',';
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
  if (typeof v === 'number' || v instanceof PyFloat) {
    const x = typeof v === 'number' ? v : v.value;
    if (Number.isNaN(x)) return 'NaN';
    if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
    return pyStr(v);
  }
  if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    if (items.length === 0) return '[]';
    return `[${nl}${items.map((x) => toJson(x as Val, indent, level + 1)).join(itemSep + nl)}${close}]`;
  }
  if (isDict(v)) {
    // sort_keys=True sorts the original keys (mixed types raise), then converts them.
    const sorted = pySorted(dictEntries(v).map(([k, x]) => new PyTuple([k, x])), (it) => (it as PyTuple).items[0] as Val, false);
    if (sorted.length === 0) return '{}';
    const parts = sorted.map((it) => {
      const [k, x] = (it as PyTuple).items as [Val, Val];
      return `${jsonString(jsonKey(k))}: ${toJson(x, indent, level + 1)}`;
    });
    return `{${nl}${parts.join(itemSep + nl)}${close}}`;
  }
  pyRaise('TypeError', `Object of type ${pyTypeName(v)} is not JSON serializable`);
}

function jsonKey(k: Val): string {
  if (typeof k === 'string') return k;
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null || k === undefined) return 'null';
  if (isNumber(k)) return toJson(k, null, 0);
  pyRaise('TypeError', `keys must be str, int, float, bool or None, not ${pyTypeName(k)}`);
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function doTojson(value: Val, indent: Val): Val {
  const ind = indent === null || indent === undefined ? null : requireIndex(indent, 'indent');
  return toJson(value, ind, 0)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll("'", '\\u0027');
}

function doIndent(s: Val, width: Val, first: Val, blank: Val): Val {
  const indention = typeof width === 'string' ? width : ' '.repeat(requireIndex(width, 'width'));
  if (typeof s !== 'string') pyRaise('TypeError', `unsupported operand type(s) for +=: '${pyTypeName(s)}' and 'str'`);
  const text = `${s}\n`;
  const lines = pySplitlines(text, false);
  let rv: string;
  if (pyBool(blank)) rv = lines.join(`\n${indention}`);
  else {
    rv = lines.shift() ?? '';
    if (lines.length > 0) rv += `\n${lines.map((l) => (l ? indention + l : l)).join('\n')}`;
  }
  return pyBool(first) ? indention + rv : rv;
}


function prepareMap(args: Val[], kw: Map<string, Val>): (item: Val) => Val {
  if (args.length === 0 && kw.has('attribute')) {
    const attribute = kw.get('attribute') as Val;
    const dflt = kw.has('default') ? (kw.get('default') as Val) : null;
    for (const k of kw.keys()) {
      if (k !== 'attribute' && k !== 'default') pyRaise('FilterArgumentError', `Unexpected keyword argument '${k}'`);
    }
    return attrGetter(attribute, null, dflt);
  }
  if (args.length === 0) pyRaise('FilterArgumentError', 'map requires a filter argument');
  const name = args[0] as Val;
  const rest = args.slice(1);
  const kwargs = kw.size > 0 ? kw : null;
  return (item) => callFilter(pyStr(name), item, rest, kwargs);
}

function selectOrReject(value: Val, args: Val[], kw: Map<string, Val>, keep: boolean, lookupAttr: boolean): PyIter {
  const typeName = 'generator';
  if (!pyBool(value)) return generator(typeName, []);
  let trans: (v: Val) => Val = (x) => x;
  let off = 0;
  if (lookupAttr) {
    if (args.length === 0) pyRaise('FilterArgumentError', 'Missing parameter for attribute name');
    trans = attrGetter(args[0] as Val, null);
    off = 1;
  }
  let test: (v: Val) => boolean;
  if (args.length > off) {
    const name = pyStr(args[off] as Val);
    const rest = args.slice(off + 1);
    const kwargs = kw.size > 0 ? kw : null;
    test = (v) => callTest(name, v, rest, kwargs);
  } else test = pyBool;
  const source = value;
  return new PyIter(
    typeName,
    (function* () {
      for (const item of iterate(source)) if (test(trans(item)) === keep) yield item;
    })(),
  );
}

/** The filters by name. */
export const FILTERS = new Map<string, FilterDef>([
  ['abs', def('abs', [], [], (v) => {
    if (isNumber(v)) return numAbs(v);
    pyRaise('TypeError', `bad operand type for abs(): '${pyTypeName(v)}'`);
  })],
  ['attr', def('do_attr', ['name'], [], (v, b) => {
    const name = arg(b, 0);
    if (typeof name !== 'string') pyRaise('TypeError', 'attribute name must be string');
    if (v instanceof Undefined) v.fail();
    return pyAttr(v, name) === NOT_FOUND ? new Undefined(null, v, name) : jinjaGetattr(v, name);
  })],
  ['batch', def('do_batch', ['linecount', 'fill_with'], [null], (v, b) => {
    const n = arg(b, 0);
    const fill = arg(b, 1);
    const out: Val[] = [];
    let tmp: Val[] = [];
    for (const item of iterate(v)) {
      if (pyEq(tmp.length, n)) {
        out.push(tmp);
        tmp = [];
      }
      tmp.push(item);
    }
    if (tmp.length > 0) {
      if (fill !== null && fill !== undefined && pyOrder('lt', tmp.length, n)) {
        const missing = Number(intOf(n as number)) - tmp.length;
        for (let i = 0; i < missing; i++) tmp.push(fill);
      }
      out.push(tmp);
    }
    return generator('generator', out);
  })],
  ['capitalize', def('do_capitalize', [], [], (v) => pyCapitalize(softStr(v)))],
  ['center', def('do_center', ['width'], [80], (v, b) => pyCenter(softStr(v), requireIndex(arg(b, 0), 'width'), ' '))],
  ['count', def('len', [], [], (v) => pyLen(v))],
  ['d', def('do_default', ['default_value', 'boolean'], ['', false], (v, b) =>
    v instanceof Undefined || (pyBool(arg(b, 1)) && !pyBool(v)) ? arg(b, 0) : v)],
  ['default', def('do_default', ['default_value', 'boolean'], ['', false], (v, b) =>
    v instanceof Undefined || (pyBool(arg(b, 1)) && !pyBool(v)) ? arg(b, 0) : v)],
  ['dictsort', def('do_dictsort', ['case_sensitive', 'by', 'reverse'], [false, 'key', false], (v, b) => {
    const by = arg(b, 1);
    let pos: number;
    if (by === 'key') pos = 0;
    else if (by === 'value') pos = 1;
    else pyRaise('FilterArgumentError', 'You can only sort by either "key" or "value"');
    if (!isDict(v)) pyRaise('AttributeError', `'${pyTypeName(v)}' object has no attribute 'items'`);
    const cs = pyBool(arg(b, 0));
    const items = dictEntries(v).map(([k, x]) => new PyTuple([k, x]));
    return pySorted(items, (it) => {
      const x = (it as PyTuple).items[pos] as Val;
      return cs ? x : lowerIfStr(x);
    }, pyBool(arg(b, 2)));
  })],
  ['e', def('escape', [], [], (v) => htmlEscape(softStr(v)))],
  ['escape', def('escape', [], [], (v) => htmlEscape(softStr(v)))],
  ['filesizeformat', def('do_filesizeformat', ['binary'], [false], (v, b) => doFilesize(v, arg(b, 0)))],
  ['first', def('do_first', [], [], (v) => {
    if (v instanceof PyIter) {
      const r = v.source.next();
      return r.done ? new Undefined('No first item, sequence was empty.') : r.value;
    }
    const items = pyIterArray(v);
    return items.length > 0 ? (items[0] as Val) : new Undefined('No first item, sequence was empty.');
  })],
  ['float', def('do_float', ['default'], [mkFloat(0)], (v, b) => doFloat(v, arg(b, 0)))],
  ['forceescape', def('do_forceescape', [], [], (v) => htmlEscape(softStr(v)))],
  ['format', def('do_format', [], [], (v, b) => {
    if (b.rest.length > 0 && b.kw.size > 0) {
      pyRaise('FilterArgumentError', "can't handle positional and keyword arguments at the same time");
    }
    const args: Val = b.kw.size > 0 ? new Map<Val, Val>(b.kw) : new PyTuple(b.rest);
    return printf(softStr(v), args);
  }, { varargs: true, varkw: true })],
  ['groupby', def('do_groupby', ['attribute', 'default', 'case_sensitive'], [null, false], (v, b) => {
    const attribute = arg(b, 0);
    const dflt = arg(b, 1);
    const cs = pyBool(arg(b, 2));
    const expr = attrGetter(attribute, cs ? null : lowerIfStr, dflt);
    const sorted = pySorted([...iterate(v)], expr, false);
    const groups: [Val, Val[]][] = [];
    for (const item of sorted) {
      const k = expr(item);
      const last = groups[groups.length - 1];
      if (last !== undefined && pyEq(last[0], k)) last[1].push(item);
      else groups.push([k, [item]]);
    }
    const out = cs ? null : attrGetter(attribute, null, dflt);
    return groups.map(([k, items]) => new GroupTuple([out === null ? k : out(items[0] as Val), items]));
  })],
  ['indent', def('do_indent', ['width', 'first', 'blank'], [4, false, false], (v, b) =>
    doIndent(v, arg(b, 0), arg(b, 1), arg(b, 2)))],
  ['int', def('do_int', ['default', 'base'], [0, 10], (v, b) => doInt(v, arg(b, 0), arg(b, 1)))],
  ['items', def('do_items', [], [], (v) => {
    if (v instanceof Undefined) return generator('generator', []);
    if (!isDict(v)) pyRaise('TypeError', 'Can only get item pairs from a mapping.');
    return generator('generator', dictEntries(v).map(([k, x]) => new PyTuple([k, x])));
  })],
  ['join', def('do_join', ['d', 'attribute'], ['', null], (v, b) => {
    const attribute = arg(b, 1);
    let items: Iterable<Val> = iterate(v);
    if (attribute !== null && attribute !== undefined) {
      const g = attrGetter(attribute, null);
      items = [...items].map(g);
    }
    const parts: string[] = [];
    for (const x of items) parts.push(pyStr(x));
    return parts.join(pyStr(arg(b, 0)));
  })],
  ['last', def('do_last', [], [], (v) => {
    if (v instanceof PyIter) pyRaise('TypeError', `'${v.typeName}' object is not reversible`);
    if (v instanceof Set) pyRaise('TypeError', "'set' object is not reversible");
    const items = pyIterArray(v);
    return items.length > 0 ? (items[items.length - 1] as Val) : new Undefined('No last item, sequence was empty.');
  })],
  ['length', def('len', [], [], (v) => pyLen(v))],
  ['list', def('do_list', [], [], (v) => [...iterate(v)])],
  ['lower', def('do_lower', [], [], (v) => softStr(v).toLowerCase())],
  ['map', def('do_map', [], [], (v, b) => {
    if (!pyBool(v)) return generator('generator', []);
    const f = prepareMap(b.rest, b.kw);
    const source = v;
    return new PyIter('generator', (function* () {
      for (const item of iterate(source)) yield f(item);
    })());
  }, { varargs: true, varkw: true })],
  ['max', def('do_max', ['case_sensitive', 'attribute'], [false, null], (v, b) => {
    const items = [...iterate(v)];
    if (items.length === 0) return new Undefined('No aggregated item, sequence was empty.');
    return extreme(items, attrGetter(arg(b, 1), pyBool(arg(b, 0)) ? null : lowerIfStr), true);
  })],
  ['min', def('do_min', ['case_sensitive', 'attribute'], [false, null], (v, b) => {
    const items = [...iterate(v)];
    if (items.length === 0) return new Undefined('No aggregated item, sequence was empty.');
    return extreme(items, attrGetter(arg(b, 1), pyBool(arg(b, 0)) ? null : lowerIfStr), false);
  })],
  ['random', def('do_random', [], [], (v) => {
    const items = pyIterArray(v);
    if (items.length === 0) return new Undefined('No random item, sequence was empty.');
    return items[Math.floor(Math.random() * items.length)] as Val;
  })],
  ['reject', def('do_reject', [], [], (v, b) => selectOrReject(v, b.rest, b.kw, false, false), { varargs: true, varkw: true })],
  ['rejectattr', def('do_rejectattr', [], [], (v, b) => selectOrReject(v, b.rest, b.kw, false, true), { varargs: true, varkw: true })],
  ['replace', def('do_replace', ['old', 'new', 'count'], [null], (v, b) => {
    const count = arg(b, 2);
    const n = count === null || count === undefined ? -1 : requireIndex(count, 'count');
    return pyReplace(pyStr(v), pyStr(arg(b, 0)), pyStr(arg(b, 1)), n);
  })],
  ['reverse', def('do_reverse', [], [], (v) => {
    if (typeof v === 'string') return hasAstral(v) ? cpArray(v).reverse().join('') : v.split('').reverse().join('');
    if (v instanceof PyIter || v instanceof Set) return [...iterate(v)].reverse();
    try {
      return generator(v instanceof PyRange ? 'range_iterator' : 'list_reverseiterator', [...pyIterArray(v)].reverse());
    } catch (err) {
      if (err instanceof PyError && err.pyType === 'TypeError') pyRaise('FilterArgumentError', 'argument must be iterable');
      throw err;
    }
  })],
  ['round', def('do_round', ['precision', 'method'], [0, 'common'], (v, b) => doRound(v, arg(b, 0), arg(b, 1)))],
  ['safe', def('do_mark_safe', [], [], (v) => softStr(v))],
  ['select', def('do_select', [], [], (v, b) => selectOrReject(v, b.rest, b.kw, true, false), { varargs: true, varkw: true })],
  ['selectattr', def('do_selectattr', [], [], (v, b) => selectOrReject(v, b.rest, b.kw, true, true), { varargs: true, varkw: true })],
  ['slice', def('do_slice', ['slices', 'fill_with'], [null], (v, b) => {
    const seq = [...iterate(v)];
    const slices = requireIndex(arg(b, 0), 'slices');
    const fill = arg(b, 1);
    const length = seq.length;
    if (slices === 0) pyRaise('ZeroDivisionError', 'integer division or modulo by zero');
    const per = Math.floor(length / slices);
    const extra = ((length % slices) + slices) % slices;
    const out: Val[] = [];
    let offset = 0;
    for (let n = 0; n < slices; n++) {
      const start = offset + n * per;
      if (n < extra) offset += 1;
      const end = offset + (n + 1) * per;
      const tmp = seq.slice(start, end);
      if (fill !== null && fill !== undefined && n >= extra) tmp.push(fill);
      out.push(tmp);
    }
    return generator('generator', out);
  })],
  ['sort', def('do_sort', ['reverse', 'case_sensitive', 'attribute'], [false, false, null], (v, b) => {
    const key = multiAttrGetter(arg(b, 2), pyBool(arg(b, 1)) ? null : lowerIfStr);
    const attrKey = arg(b, 2) === null || arg(b, 2) === undefined ? (x: Val) => (key(x) as Val[])[0] as Val : key;
    return pySorted([...iterate(v)], attrKey, pyBool(arg(b, 0)));
  })],
  ['string', def('soft_str', [], [], (v) => softStr(v))],
  ['sum', def('do_sum', ['attribute', 'start'], [null, 0], (v, b) => {
    const attribute = arg(b, 0);
    let acc = arg(b, 1);
    if (typeof acc === 'string') pyRaise('TypeError', "sum() can't sum strings [use ''.join(seq) instead]");
    if (acc instanceof Uint8Array) pyRaise('TypeError', "sum() can't sum bytes [use b''.join(seq) instead]");
    const g = attribute === null || attribute === undefined ? null : attrGetter(attribute, null);
    for (const item of iterate(v)) acc = pyAdd(acc, g === null ? item : g(item));
    return acc;
  })],
  ['title', def('do_title', [], [], (v) => jinjaTitle(softStr(v)))],
  ['tojson', def('do_tojson', ['indent'], [null], (v, b) => doTojson(v, arg(b, 0)))],
  ['trim', def('do_trim', ['chars'], [null], (v, b) => {
    const chars = arg(b, 0);
    if (chars !== null && chars !== undefined && typeof chars !== 'string') {
      pyRaise('TypeError', 'strip arg must be None or str');
    }
    return pyStrip(softStr(v), (chars as string | null | undefined) ?? null, true, true);
  })],
  ['truncate', def('do_truncate', ['length', 'killwords', 'end', 'leeway'], [255, false, '...', null], (v, b) =>
    doTruncate(v, arg(b, 0), arg(b, 1), arg(b, 2), arg(b, 3)))],
  ['unique', def('do_unique', ['case_sensitive', 'attribute'], [false, null], (v, b) => {
    const g = attrGetter(arg(b, 1), pyBool(arg(b, 0)) ? null : lowerIfStr);
    const source = v;
    return new PyIter('generator', (function* () {
      const seen: Val[] = [];
      for (const item of iterate(source)) {
        const k = g(item);
        if (Array.isArray(k) || isDict(k) || k instanceof Set) pyRaise('TypeError', `unhashable type: '${pyTypeName(k)}'`);
        if (!seen.some((s) => pyEq(s, k))) {
          seen.push(k);
          yield item;
        }
      }
    })());
  })],
  ['upper', def('do_upper', [], [], (v) => softStr(v).toUpperCase())],
  ['urlencode', def('do_urlencode', [], [], (v) => doUrlencode(v))],
  ['wordcount', def('do_wordcount', [], [], (v) => (softStr(v).match(WORD_RE) ?? []).length)],
]);

const WORD_RE = /[\p{L}\p{N}_]+/gu;

/** Jinja2 filters this port deliberately does not provide; using one is a compile error. */
export const UNSUPPORTED_FILTERS = new Set(['pprint', 'striptags', 'urlize', 'wordwrap', 'xmlattr']);

testHooks.hasFilter = (name) => FILTERS.has(name);

/** Runs filter `name` (for `map`); unknown names raise at run time like Jinja2's. */
export function callFilter(name: string, value: Val, args: readonly Val[], kwargs: Kwargs): Val {
  const f = FILTERS.get(name);
  if (f === undefined) pyRaise('TemplateRuntimeError', `No filter named '${name}' found.`);
  return f.fn(value, bindArgs(f.sig, args, kwargs));
}
