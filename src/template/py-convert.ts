/**
 * Python's `int(x)`, `int(s, base)` and `float(x)` conversions, with their exact string
 * grammars (underscores between digits, base prefixes, `inf`/`nan`, surrounding whitespace).
 */
import { PyFloat } from '../heros/values.js';
import { intToFloat, isIntLike, intOf, mkFloat, normBig, truncFloat, type PyInt } from './py-number.js';
import { Undefined, pyRaise, pyTypeName, type Val } from './py-objects.js';
import { pyRepr } from './py-str.js';
import { isPySpace, pyStrip } from './py-text.js';

const FLOAT_NUM_RE = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const FLOAT_SPECIAL_RE = /^([+-]?)(?:(inf|infinity)|nan)$/i;
const LEADING_ZERO_RE = /^0[0-9_]*[1-9]/;

/** First code point of each run of Unicode decimal digits (Python 3.11's `unicodedata`). */
const DIGIT_ZEROS = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
  0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
  0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0,
  0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0,
  0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce,
  0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * CPython `_PyUnicode_TransformDecimalAndSpaceToASCII`: `int()` and `float()` accept any
 * Unicode decimal digit and whitespace.
 */
function toAsciiNumber(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      out += ch;
      continue;
    }
    if (isPySpace(ch)) {
      out += ' ';
      continue;
    }
    let zero = -1;
    for (const z of DIGIT_ZEROS) if (z <= cp) zero = z;
    out += zero >= 0 && cp - zero <= 9 ? String(cp - zero) : ch;
  }
  return out;
}

/** Python `float(s)` for a string; ValueError when it is not a float literal. */
export function floatFromStr(s: string): number {
  const t = pyStrip(toAsciiNumber(s), null, true, true);
  if (FLOAT_NUM_RE.test(t)) return Number(t.replaceAll('_', ''));
  const m = FLOAT_SPECIAL_RE.exec(t);
  if (m) {
    if (m[2] === undefined) return Number.NaN;
    return m[1] === '-' ? -Infinity : Infinity;
  }
  pyRaise('ValueError', `could not convert string to float: ${pyRepr(s)}`);
}

const DIGIT_VALUE = (c: string): number => {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
};

/** Python `int(s, base)` for a string. */
export function intFromStr(s: string, base: number): PyInt {
  if (base !== 0 && (base < 2 || base > 36)) pyRaise('ValueError', 'int() base must be >= 2 and <= 36, or 0');
  const bad = (): never => pyRaise('ValueError', `invalid literal for int() with base ${base}: ${pyRepr(s)}`);
  let t = pyStrip(toAsciiNumber(s), null, true, true);
  let negative = false;
  if (t[0] === '+' || t[0] === '-') {
    negative = t[0] === '-';
    t = t.slice(1);
  }
  let b = base;
  const prefix = t.slice(0, 2).toLowerCase();
  let prefixed = false;
  if ((b === 0 || b === 16) && prefix === '0x') {
    b = 16;
    prefixed = true;
  } else if ((b === 0 || b === 8) && prefix === '0o') {
    b = 8;
    prefixed = true;
  } else if ((b === 0 || b === 2) && prefix === '0b') {
    b = 2;
    prefixed = true;
  }
  if (prefixed) {
    t = t.slice(2);
    // An underscore may follow the prefix directly ("0x_1f").
    if (t[0] === '_') t = t.slice(1);
  } else if (b === 0) {
    b = 10;
    // Base 0 forbids leading zeros in non-zero decimal literals, like Python source.
    if (LEADING_ZERO_RE.test(t)) bad();
  }
  if (t === '' || t[0] === '_' || t.endsWith('_') || t.includes('__')) bad();
  let acc = 0n;
  const bb = BigInt(b);
  for (const c of t) {
    if (c === '_') continue;
    const d = DIGIT_VALUE(c);
    if (d >= b) bad();
    acc = acc * bb + BigInt(d);
  }
  return normBig(negative ? -acc : acc);
}

/** Python `int(v)` for a non-string value (TypeError for what int() rejects). */
export function intOfValue(v: Val): PyInt {
  if (isIntLike(v)) return intOf(v);
  if (v instanceof PyFloat) return truncFloat(v.value);
  if (typeof v === 'number') return truncFloat(v);
  if (typeof v === 'string') return intFromStr(v, 10);
  if (v instanceof Uint8Array) return intFromStr(new TextDecoder().decode(v), 10);
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(v)}'`);
}

/** Python `float(v)`. */
export function floatOfValue(v: Val): number {
  if (isIntLike(v)) return intToFloat(intOf(v));
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return floatFromStr(v);
  if (v instanceof Uint8Array) return floatFromStr(new TextDecoder().decode(v));
  if (v instanceof Undefined) v.fail();
  pyRaise('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(v)}'`);
}

/** `float(v)` as a template value. */
export function toPyFloat(v: Val): Val {
  return mkFloat(floatOfValue(v));
}
