/**
 * Python's `str.format()` / `format(value, spec)` (PEP 3101): replacement fields with
 * `{0}`, `{name.attr[key]!r:>{width}}`, and the format-spec mini-language for `str`, `int` and
 * `float` (`{:04d}`, `{:.3f}`, `{:,}`, `{:_x}`, `{:%}`), ported from CPython's
 * `formatter_unicode.c` including its zero-padding-with-grouping rule (`{:08,}` → `0,001,234`).
 */
import { PyDateTime, PyFloat } from '../heros/values.js';
import { datetimeStrftime } from './py-datetime.js';
import { doubleToString } from './float-format.js';
import { pyAttr } from './py-methods.js';
import { floatOf, intToFloat, isIntLike, intOf, type PyInt } from './py-number.js';
import { NOT_FOUND, Undefined, pyRaise, pyTypeName, type Val } from './py-objects.js';
import { pySubscript } from './py-ops.js';
import { pyAscii, pyRepr, pyStr } from './py-str.js';
import { cpArray, cpLength, cpSlice } from './py-text.js';

/** A parsed format spec (`InternalFormatSpec`). */
interface FormatSpec {
  fill: string;
  align: string;
  sign: string;
  noNeg0: boolean;
  alternate: boolean;
  width: number;
  /** '' none, ',' or '_' (or '_4' for every four digits). */
  grouping: string;
  precision: number;
  type: string;
}

const ALIGN = new Set(['<', '>', '=', '^']);

function parseSpec(spec: string, v: Val, defaultType: string, defaultAlign: string): FormatSpec {
  const c = cpArray(spec);
  const end = c.length;
  let pos = 0;
  const f: FormatSpec = {
    fill: ' ',
    align: defaultAlign,
    sign: '',
    noNeg0: false,
    alternate: false,
    width: -1,
    grouping: '',
    precision: -1,
    type: defaultType,
  };
  let fillSpecified = false;
  let alignSpecified = false;
  if (end - pos >= 2 && ALIGN.has(c[pos + 1] as string)) {
    f.align = c[pos + 1] as string;
    f.fill = c[pos] as string;
    fillSpecified = true;
    alignSpecified = true;
    pos += 2;
  } else if (end - pos >= 1 && ALIGN.has(c[pos] as string)) {
    f.align = c[pos] as string;
    alignSpecified = true;
    pos++;
  }
  if (pos < end && (c[pos] === '+' || c[pos] === '-' || c[pos] === ' ')) f.sign = c[pos++] as string;
  if (pos < end && c[pos] === 'z') {
    f.noNeg0 = true;
    pos++;
  }
  if (pos < end && c[pos] === '#') {
    f.alternate = true;
    pos++;
  }
  if (!fillSpecified && pos < end && c[pos] === '0') {
    f.fill = '0';
    if (!alignSpecified && defaultAlign === '>') f.align = '=';
    pos++;
  }
  const digits = (): number => {
    const s = pos;
    while (pos < end && (c[pos] as string) >= '0' && (c[pos] as string) <= '9') pos++;
    if (pos === s) return -1;
    const n = Number(c.slice(s, pos).join(''));
    if (n > 2 ** 31) pyRaise('ValueError', 'Too many decimal digits in format string');
    return n;
  };
  f.width = digits();
  if (pos < end && c[pos] === ',') {
    f.grouping = ',';
    pos++;
  }
  if (pos < end && c[pos] === '_') {
    if (f.grouping !== '') pyRaise('ValueError', "Cannot specify both ',' and '_'.");
    f.grouping = '_';
    pos++;
  }
  if (pos < end && c[pos] === ',' && f.grouping === '_') pyRaise('ValueError', "Cannot specify both ',' and '_'.");
  if (pos < end && c[pos] === '.') {
    pos++;
    f.precision = digits();
    if (f.precision < 0) pyRaise('ValueError', 'Format specifier missing precision');
  }
  if (end - pos > 1) {
    pyRaise('ValueError', `Invalid format specifier '${spec}' for object of type '${pyTypeName(v)}'`);
  }
  if (end - pos === 1) f.type = c[pos] as string;
  if (f.grouping !== '') {
    switch (f.type) {
      case 'd': case 'e': case 'f': case 'g': case 'E': case 'G': case '%': case 'F': case '':
        break;
      case 'b': case 'o': case 'x': case 'X':
        if (f.grouping === '_') {
          f.grouping = '_4';
          break;
        }
      // falls through
      default:
        pyRaise('ValueError', `Cannot specify '${f.grouping[0]}' with '${f.type}'.`);
    }
  }
  return f;
}

/** CPython `_PyUnicode_InsertThousandsGrouping`: group `digits`, zero-padded to `minWidth`. */
function groupDigits(digits: string, minWidth: number, sep: string, size: number): string {
  if (sep === '') {
    return digits.length >= minWidth ? digits : '0'.repeat(minWidth - digits.length) + digits;
  }
  let remaining = digits.length;
  let min = Math.max(0, minWidth);
  const groups: string[] = [];
  let pos = digits.length;
  for (;;) {
    const len = Math.min(size, Math.max(remaining, min, 1));
    const nZeros = Math.max(0, len - remaining);
    const nChars = Math.max(0, Math.min(remaining, len));
    groups.push('0'.repeat(nZeros) + digits.slice(pos - nChars, pos));
    pos -= nChars;
    remaining -= nChars;
    min -= len;
    if (remaining <= 0 && min <= 0) break;
    min -= sep.length;
  }
  return groups.reverse().join(sep);
}

/**
 * CPython `calc_number_widths` + `fill_number`: lays out sign, prefix, grouped digits,
 * decimal part and padding.
 */
function layoutNumber(
  f: FormatSpec,
  signChar: string,
  prefix: string,
  digits: string,
  remainder: string,
  upper: boolean,
): string {
  let sign = '';
  if (f.sign === '+') sign = signChar === '-' ? '-' : '+';
  else if (f.sign === ' ') sign = signChar === '-' ? '-' : ' ';
  else if (signChar === '-') sign = '-';
  const nonDigit = sign.length + prefix.length + cpLength(remainder);
  const minWidth = f.fill === '0' && f.align === '=' ? f.width - nonDigit : 0;
  const sep = f.grouping === '' ? '' : f.grouping[0] as string;
  const size = f.grouping === '_4' ? 4 : 3;
  let grouped = digits.length === 0 ? '' : groupDigits(digits, minWidth, sep, size);
  if (upper) grouped = grouped.toUpperCase();
  const body = nonDigit + grouped.length;
  const padding = f.width - body;
  let lpad = 0;
  let spad = 0;
  let rpad = 0;
  if (padding > 0) {
    if (f.align === '<') rpad = padding;
    else if (f.align === '^') {
      lpad = Math.floor(padding / 2);
      rpad = padding - lpad;
    } else if (f.align === '=') spad = padding;
    else lpad = padding;
  }
  const p = upper ? prefix.toUpperCase() : prefix;
  return f.fill.repeat(lpad) + sign + p + f.fill.repeat(spad) + grouped + remainder + f.fill.repeat(rpad);
}

function formatString(s: string, f: FormatSpec): string {
  if (f.sign !== '') pyRaise('ValueError', 'Sign not allowed in string format specifier');
  if (f.noNeg0) pyRaise('ValueError', 'Negative zero coercion (z) not allowed in format specifier');
  if (f.alternate) pyRaise('ValueError', 'Alternate form (#) not allowed in string format specifier');
  if (f.align === '=') pyRaise('ValueError', "'=' alignment not allowed in string format specifier");
  let len = cpLength(s);
  let str = s;
  if (f.precision >= 0 && len >= f.precision) {
    str = cpSlice(s, 0, f.precision);
    len = f.precision;
  }
  const total = f.width >= 0 && f.width > len ? f.width : len;
  let lpad = 0;
  if (f.align === '>') lpad = total - len;
  else if (f.align === '^') lpad = Math.floor((total - len) / 2);
  return f.fill.repeat(lpad) + str + f.fill.repeat(total - len - lpad);
}

function formatInteger(i: PyInt, f: FormatSpec): string {
  if (f.precision !== -1) pyRaise('ValueError', 'Precision not allowed in integer format specifier');
  if (f.noNeg0) pyRaise('ValueError', 'Negative zero coercion (z) not allowed in integer format specifier');
  if (f.type === 'c') {
    if (f.sign !== '') pyRaise('ValueError', "Sign not allowed with integer format specifier 'c'");
    if (f.alternate) pyRaise('ValueError', "Alternate form (#) not allowed with integer format specifier 'c'");
    if (i < 0 || i > 0x10ffff) pyRaise('OverflowError', '%c arg not in range(0x110000)');
    return layoutNumber(f, '', '', '', String.fromCodePoint(Number(i)), false);
  }
  const base = f.type === 'b' ? 2 : f.type === 'o' ? 8 : f.type === 'x' || f.type === 'X' ? 16 : 10;
  const negative = i < 0;
  const abs = typeof i === 'bigint' ? (negative ? -i : i) : Math.abs(i);
  const digits = abs.toString(base);
  let prefix = '';
  if (f.alternate && base !== 10) prefix = base === 2 ? '0b' : base === 8 ? '0o' : '0x';
  const spec = f.type === 'n' ? { ...f, grouping: '' } : f;
  return layoutNumber(spec, negative ? '-' : '', prefix, digits, '', f.type === 'X');
}

function formatFloat(x: number, f: FormatSpec): string {
  let type = f.type;
  let precision = f.precision;
  let addDot0 = false;
  let defaultPrecision = 6;
  if (type === '') {
    addDot0 = true;
    type = 'r';
    defaultPrecision = 0;
  }
  if (type === 'n') type = 'g';
  let val = x;
  let pct = false;
  if (type === '%') {
    type = 'f';
    val *= 100;
    pct = true;
  }
  if (precision < 0) precision = defaultPrecision;
  else if (type === 'r') type = 'g';
  let text = doubleToString(val, type, precision, { alt: f.alternate, addDot0, noNeg0: f.noNeg0 });
  if (pct) text += '%';
  let signChar = '';
  if (text[0] === '-') {
    signChar = '-';
    text = text.slice(1);
  }
  let k = 0;
  while (k < text.length && (text[k] as string) >= '0' && (text[k] as string) <= '9') k++;
  const digits = text.slice(0, k);
  const remainder = text.slice(k);
  const spec = f.type === 'n' ? { ...f, grouping: '' } : f;
  return layoutNumber(spec, signChar, '', digits, remainder, false);
}

/** Python `format(v, spec)` (the value's `__format__`). */
export function pyFormat(v: Val, spec: string): string {
  if (typeof v === 'string') {
    if (spec === '') return v;
    const f = parseSpec(spec, v, 's', '<');
    if (f.type !== 's') pyRaise('ValueError', `Unknown format code '${f.type}' for object of type 'str'`);
    return formatString(v, f);
  }
  if (isIntLike(v)) {
    if (spec === '') return pyStr(v);
    const f = parseSpec(spec, v, 'd', '>');
    switch (f.type) {
      case 'b': case 'c': case 'd': case 'o': case 'x': case 'X': case 'n':
        return formatInteger(intOf(v), f);
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case '%':
        return formatFloat(intToFloat(intOf(v)), f);
      default:
        pyRaise('ValueError', `Unknown format code '${f.type}' for object of type '${pyTypeName(v)}'`);
    }
  }
  if (v instanceof PyFloat || typeof v === 'number') {
    if (spec === '') return pyStr(v);
    const f = parseSpec(spec, v, '', '>');
    switch (f.type) {
      case '': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'n': case '%':
        return formatFloat(floatOf(v), f);
      default:
        pyRaise('ValueError', `Unknown format code '${f.type}' for object of type 'float'`);
    }
  }
  if (v instanceof PyDateTime) return spec === '' ? pyStr(v) : datetimeStrftime(v, spec);
  if (spec !== '') pyRaise('TypeError', `unsupported format string passed to ${pyTypeName(v)}.__format__`);
  return pyStr(v);
}

/** Keyword source of `str.format` (`**kwargs` as a Map) or `str.format_map` (any mapping). */
type KwSource = Map<string, Val> | Val;

function lookupKeyword(kw: KwSource, name: string): Val {
  return pySubscript(kw as Val, name);
}

interface State {
  auto: number;
  mode: 'none' | 'auto' | 'manual';
}

/** Python `fmt.format(*args, **kwargs)`; with a non-Map `kwargs`, `fmt.format_map(kwargs)`. */
export function strFormat(fmt: string, args: readonly Val[], kwargs: KwSource): string {
  return render(fmt, args, kwargs, { auto: 0, mode: 'none' }, 2);
}

function render(fmt: string, args: readonly Val[], kwargs: KwSource, st: State, depth: number): string {
  if (depth < 0) pyRaise('ValueError', 'Max string recursion exceeded');
  let out = '';
  let i = 0;
  const n = fmt.length;
  while (i < n) {
    const ch = fmt[i] as string;
    if (ch !== '{' && ch !== '}') {
      let j = i + 1;
      while (j < n && fmt[j] !== '{' && fmt[j] !== '}') j++;
      out += fmt.slice(i, j);
      i = j;
      continue;
    }
    if (ch === '}') {
      if (fmt[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      pyRaise('ValueError', "Single '}' encountered in format string");
    }
    if (i + 1 >= n) pyRaise('ValueError', "Single '{' encountered in format string");
    if (fmt[i + 1] === '{') {
      out += '{';
      i += 2;
      continue;
    }
    // A replacement field: find its matching '}' (nested fields may appear in the spec).
    let count = 1;
    let j = i + 1;
    for (; j < n; j++) {
      if (fmt[j] === '{') count++;
      else if (fmt[j] === '}' && --count === 0) break;
    }
    if (j >= n) pyRaise('ValueError', "expected '}' before end of string");
    out += field(fmt.slice(i + 1, j), args, kwargs, st, depth);
    i = j + 1;
  }
  return out;
}

function field(text: string, args: readonly Val[], kwargs: KwSource, st: State, depth: number): string {
  // The field name ends at '!' or ':' outside brackets.
  let k = 0;
  for (; k < text.length; k++) {
    const c = text[k];
    if (c === '[') {
      while (k < text.length && text[k] !== ']') k++;
      continue;
    }
    if (c === '{') pyRaise('ValueError', "unexpected '{' in field name");
    if (c === '!' || c === ':') break;
  }
  const name = text.slice(0, k);
  let conversion = '';
  let spec = '';
  if (k < text.length) {
    if (text[k] === '!') {
      if (k + 1 >= text.length) pyRaise('ValueError', 'end of string while looking for conversion specifier');
      conversion = text[k + 1] as string;
      if (k + 2 < text.length) {
        if (text[k + 2] !== ':') pyRaise('ValueError', "expected ':' after conversion specifier");
        spec = text.slice(k + 3);
      }
    } else spec = text.slice(k + 1);
  }
  let value = resolveField(name, args, kwargs, st);
  if (conversion !== '') {
    if (conversion === 'r') value = pyRepr(value);
    else if (conversion === 's') value = pyStr(value);
    else if (conversion === 'a') value = pyAscii(value);
    else pyRaise('ValueError', `Unknown conversion specifier ${conversion}`);
  }
  if (spec.includes('{')) spec = render(spec, args, kwargs, st, depth - 1);
  return pyFormat(value, spec);
}

const DIGITS = /^\d+$/;

function resolveField(name: string, args: readonly Val[], kwargs: KwSource, st: State): Val {
  let k = 0;
  while (k < name.length && name[k] !== '.' && name[k] !== '[') k++;
  const first = name.slice(0, k);
  let obj: Val;
  if (first === '') {
    if (st.mode === 'manual') {
      pyRaise('ValueError', 'cannot switch from manual field specification to automatic field numbering');
    }
    st.mode = 'auto';
    obj = positional(args, st.auto++);
  } else if (DIGITS.test(first)) {
    if (st.mode === 'auto') {
      pyRaise('ValueError', 'cannot switch from automatic field numbering to manual field specification');
    }
    st.mode = 'manual';
    obj = positional(args, Number(first));
  } else {
    obj = lookupKeyword(kwargs, first);
  }
  while (k < name.length) {
    if (name[k] === '.') {
      let j = k + 1;
      while (j < name.length && name[j] !== '.' && name[j] !== '[') j++;
      const attr = name.slice(k + 1, j);
      if (attr === '') pyRaise('ValueError', 'Empty attribute in format string');
      if (obj instanceof Undefined) obj.fail();
      const a = pyAttr(obj, attr);
      if (a === NOT_FOUND) pyRaise('AttributeError', `'${pyTypeName(obj)}' object has no attribute '${attr}'`);
      obj = a;
      k = j;
    } else if (name[k] === '[') {
      const j = name.indexOf(']', k);
      if (j < 0) pyRaise('ValueError', "Missing ']' in format string");
      const key = name.slice(k + 1, j);
      if (key === '') pyRaise('ValueError', 'Empty attribute in format string');
      obj = pySubscript(obj, DIGITS.test(key) ? Number(key) : key);
      k = j + 1;
      if (k < name.length && name[k] !== '.' && name[k] !== '[') {
        pyRaise('ValueError', "Only '.' or '[' may follow ']' in format field specifier");
      }
    } else {
      pyRaise('ValueError', "Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return obj;
}

function positional(args: readonly Val[], i: number): Val {
  if (i >= args.length) pyRaise('IndexError', `Replacement index ${i} out of range for positional args tuple`);
  return args[i] as Val;
}
