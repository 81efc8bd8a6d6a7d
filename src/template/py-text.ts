/**
 * Python `str` behaviour on JavaScript strings. Python indexes by code point, JavaScript by
 * UTF-16 unit; the two only differ for characters outside the BMP (emoji), so every helper
 * takes a fast path when the string has no surrogate.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/** True when `s` has characters outside the BMP (or lone surrogates). */
export function hasAstral(s: string): boolean {
  return SURROGATE.test(s);
}

/** Python `len(s)`. */
export function cpLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The code points of `s` as one-character strings. */
export function cpArray(s: string): string[] {
  return Array.from(s);
}

/** `s[start:end]` by code point, indices already clamped to `[0, len]`. */
export function cpSlice(s: string, start: number, end: number): string {
  if (!SURROGATE.test(s)) return s.slice(start, end);
  return Array.from(s).slice(start, end).join('');
}

/** Characters for which Python's `str.isspace()` is true. */
const PY_SPACE = new Set([
  '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008',
  '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
]);

/** Python `ch.isspace()` for one character. */
export function isPySpace(ch: string): boolean {
  return PY_SPACE.has(ch);
}

/** Python's whitespace class as a regex fragment (the `\s` of Python's `re` on str). */
export const PY_SPACE_CLASS = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

/** Python `s.strip(chars)` / `lstrip` / `rstrip`; `chars` null means whitespace. */
export function pyStrip(s: string, chars: string | null, left: boolean, right: boolean): string {
  const cps = Array.from(s);
  const set = chars === null ? PY_SPACE : new Set(Array.from(chars));
  let i = 0;
  let j = cps.length;
  if (left) while (i < j && set.has(cps[i] as string)) i++;
  if (right) while (j > i && set.has(cps[j - 1] as string)) j--;
  return i === 0 && j === cps.length ? s : cps.slice(i, j).join('');
}

/** Python `s.rstrip()` (whitespace). */
export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && PY_SPACE.has(s[j - 1] as string)) j--;
  return j === s.length ? s : s.slice(0, j);
}

/** Python `s.split()` with no separator: runs of whitespace, no empty strings. */
export function pySplitWhitespace(s: string, maxsplit: number): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && PY_SPACE.has(s[i] as string)) i++;
    if (i >= n) break;
    if (maxsplit >= 0 && out.length === maxsplit) {
      // The remainder keeps its trailing whitespace, as in Python.
      out.push(s.slice(i));
      return out;
    }
    let j = i;
    while (j < n && !PY_SPACE.has(s[j] as string)) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

/** Python `s.rsplit()` with no separator. */
export function pyRsplitWhitespace(s: string, maxsplit: number): string[] {
  const out: string[] = [];
  let j = s.length;
  while (j > 0) {
    while (j > 0 && PY_SPACE.has(s[j - 1] as string)) j--;
    if (j <= 0) break;
    if (maxsplit >= 0 && out.length === maxsplit) {
      out.push(s.slice(0, j));
      break;
    }
    let i = j;
    while (i > 0 && !PY_SPACE.has(s[i - 1] as string)) i--;
    out.push(s.slice(i, j));
    j = i;
  }
  return out.reverse();
}

/** Python `s.split(sep, maxsplit)` with a non-empty separator. */
export function pySplitSep(s: string, sep: string, maxsplit: number): string[] {
  if (maxsplit < 0) return s.split(sep);
  const out: string[] = [];
  let i = 0;
  while (out.length < maxsplit) {
    const k = s.indexOf(sep, i);
    if (k < 0) break;
    out.push(s.slice(i, k));
    i = k + sep.length;
  }
  out.push(s.slice(i));
  return out;
}

/** Python `s.rsplit(sep, maxsplit)` with a non-empty separator. */
export function pyRsplitSep(s: string, sep: string, maxsplit: number): string[] {
  if (maxsplit < 0) return s.split(sep);
  const out: string[] = [];
  let j = s.length;
  while (out.length < maxsplit) {
    const k = s.lastIndexOf(sep, j - sep.length);
    if (k < 0 || j - sep.length < 0) break;
    out.push(s.slice(k + sep.length, j));
    j = k;
  }
  out.push(s.slice(0, j));
  return out.reverse();
}

function isCased(ch: string): boolean {
  return ch.toLowerCase() !== ch.toUpperCase();
}

/** Python `s.islower()`: at least one cased character and all cased ones lower case. */
export function pyIsLower(s: string): boolean {
  let cased = false;
  for (const ch of s) {
    if (!isCased(ch)) continue;
    if (ch !== ch.toLowerCase() || ch === ch.toUpperCase()) return false;
    cased = true;
  }
  return cased;
}

/** Python `s.isupper()`. */
export function pyIsUpper(s: string): boolean {
  let cased = false;
  for (const ch of s) {
    if (!isCased(ch)) continue;
    if (ch !== ch.toUpperCase() || ch === ch.toLowerCase()) return false;
    cased = true;
  }
  return cased;
}

/** Title-case mappings that differ from "upper-case the first letter, lower-case the rest". */
const TITLE_OVERRIDES = new Map<string, string>([
  ['\u01c4', '\u01c5'], ['\u01c5', '\u01c5'], ['\u01c6', '\u01c5'],
  ['\u01c7', '\u01c8'], ['\u01c8', '\u01c8'], ['\u01c9', '\u01c8'],
  ['\u01ca', '\u01cb'], ['\u01cb', '\u01cb'], ['\u01cc', '\u01cb'],
  ['\u01f1', '\u01f2'], ['\u01f2', '\u01f2'], ['\u01f3', '\u01f2'],
  ['\u0149', '\u02bcN'],
  ['\u1fb3', '\u1fbc'], ['\u1fbc', '\u1fbc'], ['\u1fc3', '\u1fcc'], ['\u1fcc', '\u1fcc'],
  ['\u1ff3', '\u1ffc'], ['\u1ffc', '\u1ffc'],
]);
// Greek letters with ypogegrammeni: U+1F80..1FAF title-case to the prosgegrammeni forms.
for (const base of [0x1f80, 0x1f90, 0x1fa0]) {
  for (let i = 0; i < 8; i++) {
    TITLE_OVERRIDES.set(String.fromCodePoint(base + i), String.fromCodePoint(base + 8 + i));
    TITLE_OVERRIDES.set(String.fromCodePoint(base + 8 + i), String.fromCodePoint(base + 8 + i));
  }
}

/** Python's title case of one character (`'ß'` → `'Ss'`, `'ǆ'` → `'ǅ'`). */
export function toTitleChar(ch: string): string {
  const o = TITLE_OVERRIDES.get(ch);
  if (o !== undefined) return o;
  const up = ch.toUpperCase();
  if (up.length <= 2 && up.length === ch.length) return up;
  const first = String.fromCodePoint(up.codePointAt(0) as number);
  return first + up.slice(first.length).toLowerCase();
}

/** Lower case of `ch` at index `i` of `cps`, with the final-sigma rule Python applies. */
function lowerAt(cps: string[], i: number): string {
  const ch = cps[i] as string;
  if (ch !== '\u03a3') return ch.toLowerCase();
  const before = i > 0 && isCased(cps[i - 1] as string);
  const after = i + 1 < cps.length && isCased(cps[i + 1] as string);
  return before && !after ? '\u03c2' : '\u03c3';
}

/** Python `s.title()`: a cased character after an uncased one starts a word. */
export function pyTitle(s: string): string {
  const cps = Array.from(s);
  let out = '';
  let prevCased = false;
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i] as string;
    if (isCased(ch)) {
      out += prevCased ? lowerAt(cps, i) : toTitleChar(ch);
      prevCased = true;
    } else {
      out += ch;
      prevCased = false;
    }
  }
  return out;
}

/** Python `s.capitalize()`: first character title case, the rest lower case. */
export function pyCapitalize(s: string): string {
  if (s === '') return s;
  const cps = Array.from(s);
  let out = toTitleChar(cps[0] as string);
  for (let i = 1; i < cps.length; i++) out += lowerAt(cps, i);
  return out;
}

/** Python `s.swapcase()`. */
export function pySwapcase(s: string): string {
  let out = '';
  for (const ch of s) {
    const lo = ch.toLowerCase();
    out += ch === lo ? ch.toUpperCase() : lo;
  }
  return out;
}

/** Python `s.center(width, fill)`. */
export function pyCenter(s: string, width: number, fill: string): string {
  const len = cpLength(s);
  const marg = width - len;
  if (marg <= 0) return s;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

/** Python `s.ljust(width, fill)` / `s.rjust(width, fill)`. */
export function pyJust(s: string, width: number, fill: string, left: boolean): string {
  const pad = width - cpLength(s);
  if (pad <= 0) return s;
  return left ? s + fill.repeat(pad) : fill.repeat(pad) + s;
}

/** Python `s.zfill(width)`. */
export function pyZfill(s: string, width: number): string {
  const pad = width - cpLength(s);
  if (pad <= 0) return s;
  if (s[0] === '+' || s[0] === '-') return s[0] + '0'.repeat(pad) + s.slice(1);
  return '0'.repeat(pad) + s;
}

/** Python `s.replace(old, new, count)`. */
export function pyReplace(s: string, old: string, rep: string, count: number): string {
  if (count < 0) {
    if (old === '' && hasAstral(s)) return rep + Array.from(s).join(rep) + (s === '' ? '' : rep);
    return s.replaceAll(old, rep);
  }
  if (old === '') {
    const cps = Array.from(s);
    let out = '';
    let n = 0;
    let i = 0;
    for (; i <= cps.length; i++) {
      if (n >= count) break;
      out += rep + (cps[i] ?? '');
      n++;
    }
    return out + cps.slice(i).join('');
  }
  let out = '';
  let i = 0;
  let n = 0;
  while (n < count) {
    const k = s.indexOf(old, i);
    if (k < 0) break;
    out += s.slice(i, k) + rep;
    i = k + old.length;
    n++;
  }
  return out + s.slice(i);
}

/** Python `s.count(sub)` (non-overlapping). */
export function pyCount(s: string, sub: string): number {
  if (sub === '') return cpLength(s) + 1;
  let n = 0;
  let i = 0;
  for (;;) {
    const k = s.indexOf(sub, i);
    if (k < 0) return n;
    n++;
    i = k + sub.length;
  }
}

/** Compare two strings by code point (Python order), -1/0/1. */
export function cpCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order equals code point order except a surrogate against U+E000..U+FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const LINE_BREAKS = new Set(['\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029']);

/** Python `s.splitlines(keepends)`. */
export function pySplitlines(s: string, keepends: boolean): string[] {
  const out: string[] = [];
  let i = 0;
  let start = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (LINE_BREAKS.has(ch)) {
      let eol = i + 1;
      if (ch === '\r' && s[i + 1] === '\n') eol = i + 2;
      out.push(s.slice(start, keepends ? eol : i));
      start = eol;
      i = eol;
    } else i++;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}
