/**
 * Python's printf-style `str % args` (CPython `PyUnicode_Format`), the operator lab templates
 * use most (`'%04d' % frame`, `'%.3f' % exposure`). Ported step by step, including which
 * right-hand sides count as a mapping, `*` widths, and the error cases (TypeError for
 * `'%d' % 'abc'`, "not all arguments converted", …).
 *
 * A format string is parsed once and cached; applying it does no parsing.
 */
import { PyFloat } from '../heros/values.js';
import { doubleToString } from './float-format.js';
import { floatOf, intToFloat, isIntLike, intOf, truncFloat, type PyInt } from './py-number.js';
import { PyRange, PyTuple, Undefined, isPlainDict, pyRaise, pyTypeName, type Val } from './py-objects.js';
import { pySubscript } from './py-ops.js';
import { pyAscii, pyRepr, pyStr } from './py-str.js';
import { cpLength, cpSlice } from './py-text.js';

const F_LJUST = 1;
const F_SIGN = 2;
const F_BLANK = 4;
const F_ALT = 8;
const F_ZERO = 16;
const STAR = -2;

interface Spec {
  readonly key: string | null;
  readonly flags: number;
  /** -1: none, STAR: taken from the arguments. */
  readonly width: number;
  readonly prec: number;
  readonly conv: string;
  /** Index of the conversion character, for messages. */
  readonly at: number;
}

/** A parse error, raised when formatting reaches it (after the earlier conversions ran). */
interface ParseError {
  readonly error: string;
  readonly type: string;
}

type Segment = string | Spec | ParseError;

const cache = new Map<string, Segment[]>();
const CACHE_LIMIT = 512;

function parse(fmt: string): Segment[] {
  const segs: Segment[] = [];
  let i = 0;
  const n = fmt.length;
  while (i < n) {
    const k = fmt.indexOf('%', i);
    if (k < 0) {
      segs.push(fmt.slice(i));
      break;
    }
    if (k > i) segs.push(fmt.slice(i, k));
    i = k + 1;
    if (i >= n) {
      segs.push({ error: 'incomplete format', type: 'ValueError' });
      break;
    }
    if (fmt[i] === '%') {
      segs.push('%');
      i++;
      continue;
    }
    let key: string | null = null;
    if (fmt[i] === '(') {
      let depth = 1;
      const start = ++i;
      while (i < n && depth > 0) {
        if (fmt[i] === ')') depth--;
        else if (fmt[i] === '(') depth++;
        i++;
      }
      if (depth > 0) {
        segs.push({ error: 'incomplete format key', type: 'ValueError' });
        break;
      }
      key = fmt.slice(start, i - 1);
    }
    let flags = 0;
    let ch = '';
    for (; i < n; i++) {
      ch = fmt[i] as string;
      if (ch === '-') flags |= F_LJUST;
      else if (ch === '+') flags |= F_SIGN;
      else if (ch === ' ') flags |= F_BLANK;
      else if (ch === '#') flags |= F_ALT;
      else if (ch === '0') flags |= F_ZERO;
      else break;
    }
    let width = -1;
    let prec = -1;
    if (i < n && fmt[i] === '*') {
      width = STAR;
      i++;
    } else {
      const s = i;
      while (i < n && (fmt[i] as string) >= '0' && (fmt[i] as string) <= '9') i++;
      if (i > s) width = Number(fmt.slice(s, i));
    }
    if (i < n && fmt[i] === '.') {
      i++;
      prec = 0;
      if (i < n && fmt[i] === '*') {
        prec = STAR;
        i++;
      } else {
        const s = i;
        while (i < n && (fmt[i] as string) >= '0' && (fmt[i] as string) <= '9') i++;
        if (i > s) prec = Number(fmt.slice(s, i));
      }
    }
    if (i < n && (fmt[i] === 'h' || fmt[i] === 'l' || fmt[i] === 'L')) i++;
    if (i >= n) {
      segs.push({ error: 'incomplete format', type: 'ValueError' });
      break;
    }
    segs.push({ key, flags, width, prec, conv: fmt[i] as string, at: i });
    i++;
  }
  return segs;
}

function parsed(fmt: string): Segment[] {
  let segs = cache.get(fmt);
  if (segs === undefined) {
    segs = parse(fmt);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(fmt, segs);
  }
  return segs;
}

/** Whether CPython treats the right operand as a mapping (`PyMapping_Check`, not tuple/str). */
function isMapping(v: Val): boolean {
  return (
    v instanceof Map ||
    isPlainDict(v) ||
    Array.isArray(v) ||
    v instanceof Uint8Array ||
    v instanceof PyRange ||
    v instanceof Undefined
  );
}

/** Python `fmt % args`. */
export function printf(fmt: string, args: Val): string {
  const segs = parsed(fmt);
  let items: readonly Val[] = [];
  let argLen: number;
  let argIdx: number;
  let current: Val = args;
  if (args instanceof PyTuple) {
    items = args.items;
    argLen = items.length;
    argIdx = 0;
  } else {
    argLen = -1;
    argIdx = -2;
  }
  const dict = isMapping(args) ? args : null;
  const next = (): Val => {
    if (argIdx < argLen) {
      argIdx++;
      return argLen < 0 ? current : (items[argIdx - 1] as Val);
    }
    pyRaise('TypeError', 'not enough arguments for format string');
  };
  let out = '';
  for (const seg of segs) {
    if (typeof seg === 'string') {
      out += seg;
      continue;
    }
    if ('error' in seg) pyRaise(seg.type, seg.error);
    if (seg.key !== null) {
      if (dict === null) pyRaise('TypeError', 'format requires a mapping');
      current = pySubscript(dict, seg.key);
      argLen = -1;
      argIdx = -2;
    }
    let flags = seg.flags;
    let width = seg.width;
    let prec = seg.prec;
    if (width === STAR) {
      const w = next();
      if (!isIntLike(w)) pyRaise('TypeError', '* wants int');
      width = Number(intOf(w));
      if (width < 0) {
        flags |= F_LJUST;
        width = -width;
      }
    }
    if (prec === STAR) {
      const p = next();
      if (!isIntLike(p)) pyRaise('TypeError', '* wants int');
      prec = Number(intOf(p));
    }
    out += formatOne(seg.conv, next(), flags, width, prec, seg.at);
  }
  if (argIdx < argLen && dict === null) {
    pyRaise('TypeError', 'not all arguments converted during string formatting');
  }
  return out;
}

/** The Python number a `%d`-style conversion works on, or null when it is not a number. */
function asNumber(v: Val): PyInt | number | null {
  if (isIntLike(v)) return intOf(v);
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return v;
  if (v instanceof Undefined) v.fail();
  return null;
}

function formatOne(conv: string, v: Val, flags: number, width: number, prec: number, at: number): string {
  let text: string;
  let numeric = false;
  switch (conv) {
    case 's':
      text = pyStr(v);
      break;
    case 'r':
      text = pyRepr(v);
      break;
    case 'a':
      text = pyAscii(v);
      break;
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      text = formatInt(v, conv, flags, prec);
      numeric = true;
      break;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      let x: number;
      if (isIntLike(v)) x = intToFloat(intOf(v));
      else if (v instanceof PyFloat || typeof v === 'number') x = floatOf(v);
      else if (v instanceof Undefined) x = v.fail();
      else x = pyRaise('TypeError', `must be real number, not ${pyTypeName(v)}`);
      text = doubleToString(x, conv, prec < 0 ? 6 : prec, { alt: (flags & F_ALT) !== 0 });
      numeric = true;
      break;
    }
    case 'c':
      text = formatChar(v);
      break;
    default: {
      const code = conv.codePointAt(0) as number;
      pyRaise('ValueError', `unsupported format character '${conv}' (0x${code.toString(16)}) at index ${at}`);
    }
  }
  return pad(text, conv, numeric, flags, width, prec);
}

function formatInt(v: Val, conv: string, flags: number, prec: number): string {
  const n = asNumber(v);
  const wrong = (): never =>
    pyRaise(
      'TypeError',
      conv === 'o' || conv === 'x' || conv === 'X'
        ? `%${conv} format: an integer is required, not ${pyTypeName(v)}`
        : `%${conv} format: a real number is required, not ${pyTypeName(v)}`,
    );
  if (n === null) return wrong();
  let i: PyInt;
  if (isIntLike(v)) i = n;
  else {
    if (conv === 'o' || conv === 'x' || conv === 'X') return wrong();
    i = truncFloat(n as number);
  }
  const negative = i < 0;
  const abs = typeof i === 'bigint' ? (negative ? -i : i) : Math.abs(i);
  const base = conv === 'o' ? 8 : conv === 'x' || conv === 'X' ? 16 : 10;
  let digits = abs.toString(base);
  if (prec > digits.length) digits = '0'.repeat(prec - digits.length) + digits;
  let prefix = '';
  if ((flags & F_ALT) !== 0 && base !== 10) prefix = base === 8 ? '0o' : '0x';
  let out = (negative ? '-' : '') + prefix + digits;
  if (conv === 'X') out = out.toUpperCase();
  return out;
}

function formatChar(v: Val): string {
  if (typeof v === 'string') {
    if (cpLength(v) === 1) return v;
    pyRaise('TypeError', '%c requires int or char');
  }
  if (isIntLike(v)) {
    const c = intOf(v);
    if (c < 0 || c > 0x10ffff) pyRaise('OverflowError', '%c arg not in range(0x110000)');
    return String.fromCodePoint(Number(c));
  }
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', '%c requires int or char');
}

/** CPython `unicode_format_arg_output`: sign, `0x` prefix, fill and alignment. */
function pad(text: string, conv: string, numeric: boolean, flags: number, width: number, prec: number): string {
  let str = text;
  let len = cpLength(str);
  if ((conv === 's' || conv === 'r' || conv === 'a') && prec >= 0 && len > prec) {
    str = cpSlice(str, 0, prec);
    len = prec;
  }
  if ((width < 0 || width <= len) && (flags & (F_SIGN | F_BLANK)) === 0) return str;
  const fill = numeric && (flags & F_ZERO) !== 0 ? '0' : ' ';
  let signchar = '';
  let p = 0;
  if (numeric) {
    const c0 = str[0];
    if (c0 === '-' || c0 === '+') {
      signchar = c0;
      p = 1;
      len--;
    } else if ((flags & F_SIGN) !== 0) signchar = '+';
    else if ((flags & F_BLANK) !== 0) signchar = ' ';
  }
  let w = Math.max(width, len);
  let out = '';
  if (signchar !== '') {
    if (fill !== ' ') out += signchar;
    if (w > len) w--;
  }
  const alt = (flags & F_ALT) !== 0 && (conv === 'x' || conv === 'X' || conv === 'o');
  let prefix = '';
  if (alt) {
    prefix = str.slice(p, p + 2);
    if (fill !== ' ') out += prefix;
    p += 2;
    w = Math.max(0, w - 2);
    len -= 2;
  }
  if (w > len && (flags & F_LJUST) === 0) {
    out += fill.repeat(w - len);
    w = len;
  }
  if (fill === ' ') out += signchar + prefix;
  out += str.slice(p);
  if (w > len) out += ' '.repeat(w - len);
  return out;
}
