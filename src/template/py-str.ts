/**
 * Python `str()` and `repr()` of template values — what `{{ x }}` writes.
 */
import { pyFloatRepr } from '../heros/py-repr.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged } from '../heros/values.js';
import { datetimeRepr, datetimeStr } from './py-datetime.js';
import {
  DictView,
  LoopContext,
  Namespace,
  PyCallable,
  PyIter,
  PyRange,
  PyTuple,
  Undefined,
  escapeCodePoint,
  isPlainDict,
  pyRaise,
  pyStrRepr,
  type Val,
} from './py-objects.js';

/** Python `str(v)`. */
export function pyStr(v: Val): string {
  // str() differs from repr() only for strings, Jinja2's Undefined and datetimes.
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) return '';
  if (v instanceof PyDateTime) return datetimeStr(v);
  return pyRepr(v);
}

/** Python `repr(v)`. */
export function pyRepr(v: Val): string {
  switch (typeof v) {
    case 'string':
      return pyStrRepr(v);
    case 'number':
      return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
    case 'boolean':
      return v ? 'True' : 'False';
    case 'bigint':
      return v.toString();
    case 'undefined':
      return 'None';
    default:
      break;
  }
  if (v === null) return 'None';
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PyTuple) {
    const items = v.items.map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, x] of v) parts.push(`${pyRepr(k)}: ${pyRepr(x)}`);
    return `{${parts.join(', ')}}`;
  }
  if (v instanceof Set) return v.size === 0 ? 'set()' : `{${[...v].map(pyRepr).join(', ')}}`;
  if (v instanceof Uint8Array) return bytesRepr(v);
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof PyRange) {
    return v.step === 1 ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
  }
  if (v instanceof PyCallable) return v.reprText;
  if (v instanceof PyIter) return `<${v.typeName} object>`;
  if (v instanceof Namespace) {
    const parts: string[] = [];
    for (const [k, x] of v.attrs) parts.push(`${pyStrRepr(k)}: ${pyRepr(x)}`);
    return `<Namespace {${parts.join(', ')}}>`;
  }
  if (v instanceof LoopContext) return `<LoopContext ${v.index0 + 1}/${v.length}>`;
  if (v instanceof DictView) return dictViewRepr(v);
  if (v instanceof PyDateTime) return datetimeRepr(v);
  if (v instanceof NdArray) {
    pyRaise('TypeError', `cannot render a numpy array (dtype ${v.dtype}, shape (${v.shape.join(', ')})) in a template`);
  }
  if (v instanceof HeroRef) pyRaise('TypeError', `cannot render a HERO reference (${v.realm}/${v.name}) in a template`);
  if (v instanceof Tagged) pyRaise('TypeError', `cannot render CBOR tag ${String(v.tag)} in a template`);
  if (isPlainDict(v)) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) parts.push(`${pyStrRepr(k)}: ${pyRepr(v[k] as Val)}`);
    return `{${parts.join(', ')}}`;
  }
  pyRaise('TypeError', 'cannot render this value in a template');
}

function dictViewRepr(v: DictView): string {
  const d = v.dict;
  const parts: string[] = [];
  const entries: [Val, Val][] = d instanceof Map ? [...d] : Object.keys(d).map((k) => [k, d[k] as Val]);
  for (const [k, x] of entries) {
    if (v.kind === 'keys') parts.push(pyRepr(k));
    else if (v.kind === 'values') parts.push(pyRepr(x));
    else parts.push(`(${pyRepr(k)}, ${pyRepr(x)})`);
  }
  return `dict_${v.kind}([${parts.join(', ')}])`;
}

/** Python `repr(bytes)`. */
export function bytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    else if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (c === 9) out += '\\t';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `ascii(v)`: `repr` with every non-ASCII character escaped. */
export function pyAscii(v: Val): string {
  const r = pyRepr(v);
  let out = '';
  for (const ch of r) {
    const cp = ch.codePointAt(0) as number;
    out += cp < 0x80 ? ch : escapeCodePoint(cp);
  }
  return out;
}
