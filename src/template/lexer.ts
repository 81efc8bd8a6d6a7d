/**
 * Jinja2's lexer (`jinja2/lexer.py`, default delimiters and options) ported rule for rule:
 * data / `{{ }}` / `{% %}` / `{# #}` / `{% raw %}`, whitespace control with `-` (and `+`),
 * Python literals (`1_000`, `0x1F`, `1e-3`, `'\x41'`), brace balancing, and the removal of
 * one trailing newline (`keep_trailing_newline=False`).
 */
import { normBig } from './py-number.js';
import { PY_SPACE_CLASS, pyRstrip } from './py-text.js';

/** A syntax error with a 1-based position. */
export class TemplateSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = 'TemplateSyntaxError';
    this.line = line;
    this.column = column;
  }
}

/** A token; `type` is Jinja2's token type (`name`, `integer`, `add`, `block_begin`, …). */
export interface Token {
  readonly type: string;
  readonly value: string | number | bigint;
  /** Offset in the normalised source. */
  readonly pos: number;
}

const WS = PY_SPACE_CLASS;

const ROOT_RE = new RegExp(
  `\\{%([-+]?)${WS}*raw${WS}*(?:-%\\}${WS}*|%\\})|\\{#([-+]?)|\\{%([-+]?)|\\{\\{([-+]?)`,
  'g',
);
const COMMENT_END_RE = new RegExp(`\\+#\\}|-#\\}${WS}*|#\\}`, 'g');
const RAW_END_RE = new RegExp(`\\{%([-+]?)${WS}*endraw${WS}*(?:\\+%\\}|-%\\}${WS}*|%\\})`, 'g');
const BLOCK_END_RE = new RegExp(`\\+%\\}|-%\\}${WS}*|%\\}`, 'y');
const VARIABLE_END_RE = new RegExp(`-\\}\\}${WS}*|\\}\\}`, 'y');
const WHITESPACE_RE = new RegExp(`${WS}+`, 'y');
const FLOAT_RE = /(?<!\.)(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?e[+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/iy;
const INTEGER_RE = /0b(?:_?[01])+|0o(?:_?[0-7])+|0x(?:_?[\da-f])+|[1-9](?:_?\d)*|0(?:_?0)*/iy;
const NAME_RE = /[\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}\u00b7\u0387\u1369-\u1371\u19da\u2118\u212e\u309b\u309c]+/uy;
const IDENTIFIER_RE = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;
const STRING_RE = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const OPERATOR_RE = /\/\/|\*\*|==|!=|>=|<=|[+\-/*%~[\](){}><=.:|,;]/y;
const NEWLINE_RE = /\r\n|\r|\n/;

const OPERATORS: Record<string, string> = {
  '+': 'add', '-': 'sub', '/': 'div', '//': 'floordiv', '*': 'mul', '%': 'mod', '**': 'pow',
  '~': 'tilde', '[': 'lbracket', ']': 'rbracket', '(': 'lparen', ')': 'rparen', '{': 'lbrace',
  '}': 'rbrace', '==': 'eq', '!=': 'ne', '>': 'gt', '>=': 'gteq', '<': 'lt', '<=': 'lteq',
  '=': 'assign', '.': 'dot', ':': 'colon', '|': 'pipe', ',': 'comma', ';': 'semicolon',
};

/** The source as Jinja2 lexes it: newlines normalised to `\n`, one trailing newline removed. */
export function normalizeSource(source: string): string {
  const lines = source.split(NEWLINE_RE);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** Maps offsets of the normalised source to 1-based line and column. */
export class Positions {
  readonly #starts: number[] = [0];
  constructor(source: string) {
    for (let i = 0; i < source.length; i++) if (source[i] === '\n') this.#starts.push(i + 1);
  }
  at(pos: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: pos - (this.#starts[lo] as number) + 1 };
  }
}

/** Tokenises a normalised template source. */
export function tokenize(src: string, positions: Positions): Token[] {
  const tokens: Token[] = [];
  const fail = (message: string, pos: number): never => {
    const { line, column } = positions.at(pos);
    throw new TemplateSyntaxError(message, line, column);
  };
  let pos = 0;
  const n = src.length;
  while (pos < n) {
    ROOT_RE.lastIndex = pos;
    const m = ROOT_RE.exec(src);
    if (m === null) {
      tokens.push({ type: 'data', value: src.slice(pos), pos });
      break;
    }
    let text = src.slice(pos, m.index);
    const sign = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
    if (sign === '-') text = pyRstrip(text);
    if (text !== '') tokens.push({ type: 'data', value: text, pos });
    const tagPos = m.index;
    pos = m.index + m[0].length;
    if (m[1] !== undefined) {
      // {% raw %}: everything up to {% endraw %} is data.
      RAW_END_RE.lastIndex = pos;
      const e = RAW_END_RE.exec(src);
      if (e === null) fail('Missing end of raw directive', tagPos);
      const end = e as RegExpExecArray;
      let raw = src.slice(pos, end.index);
      if (end[1] === '-') raw = pyRstrip(raw);
      if (raw !== '') tokens.push({ type: 'data', value: raw, pos });
      pos = end.index + end[0].length;
    } else if (m[2] !== undefined) {
      COMMENT_END_RE.lastIndex = pos;
      const e = COMMENT_END_RE.exec(src);
      if (e === null) fail('Missing end of comment tag', tagPos);
      const end = e as RegExpExecArray;
      pos = end.index + end[0].length;
    } else {
      const block = m[3] !== undefined;
      tokens.push({ type: block ? 'block_begin' : 'variable_begin', value: m[0], pos: tagPos });
      pos = lexTag(src, pos, block ? BLOCK_END_RE : VARIABLE_END_RE, block ? 'block_end' : 'variable_end', tokens, fail);
    }
  }
  tokens.push({ type: 'eof', value: '', pos: n });
  return tokens;
}

function lexTag(
  src: string,
  start: number,
  endRe: RegExp,
  endType: string,
  tokens: Token[],
  fail: (message: string, pos: number) => never,
): number {
  let pos = start;
  const balance: string[] = [];
  const n = src.length;
  const match = (re: RegExp): string | null => {
    re.lastIndex = pos;
    const m = re.exec(src);
    return m === null ? null : m[0];
  };
  while (pos < n) {
    let t: string | null;
    if (balance.length === 0 && (t = match(endRe)) !== null) {
      tokens.push({ type: endType, value: t, pos });
      return pos + t.length;
    }
    if ((t = match(WHITESPACE_RE)) !== null) {
      pos += t.length;
    } else if ((t = match(FLOAT_RE)) !== null) {
      tokens.push({ type: 'float', value: Number(t.replaceAll('_', '')), pos });
      pos += t.length;
    } else if ((t = match(INTEGER_RE)) !== null) {
      tokens.push({ type: 'integer', value: parseInteger(t.replaceAll('_', '')), pos });
      pos += t.length;
    } else if ((t = match(NAME_RE)) !== null) {
      if (!IDENTIFIER_RE.test(t)) fail('Invalid character in identifier', pos);
      tokens.push({ type: 'name', value: t, pos });
      pos += t.length;
    } else if ((t = match(STRING_RE)) !== null) {
      let value: string;
      try {
        value = unescapePython(t.slice(1, -1));
      } catch (err) {
        return fail((err as Error).message, pos);
      }
      tokens.push({ type: 'string', value, pos });
      pos += t.length;
    } else if ((t = match(OPERATOR_RE)) !== null) {
      if (t === '{') balance.push('}');
      else if (t === '(') balance.push(')');
      else if (t === '[') balance.push(']');
      else if (t === '}' || t === ')' || t === ']') {
        if (balance.length === 0) fail(`unexpected '${t}'`, pos);
        const expected = balance.pop();
        if (expected !== t) fail(`unexpected '${t}', expected '${expected}'`, pos);
      }
      tokens.push({ type: OPERATORS[t] as string, value: t, pos });
      pos += t.length;
    } else {
      fail(`unexpected char ${JSON.stringify(src[pos])} at ${pos}`, pos);
    }
  }
  return pos;
}

function parseInteger(t: string): number | bigint {
  const lower = t.toLowerCase();
  let v: bigint;
  if (lower.startsWith('0x') || lower.startsWith('0o') || lower.startsWith('0b')) v = BigInt(lower);
  else v = BigInt(t);
  return normBig(v);
}

/**
 * Jinja2's string literal decoding: `value.encode("ascii", "backslashreplace")
 * .decode("unicode-escape")`. Non-ASCII characters are first turned into escapes, exactly as
 * Python does, so a backslash before one of them behaves as in Jinja2.
 */
export function unescapePython(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let ascii = '';
  for (const ch of raw) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) ascii += ch;
    else if (cp <= 0xff) ascii += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp <= 0xffff) ascii += `\\u${cp.toString(16).padStart(4, '0')}`;
    else ascii += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  let out = '';
  for (let i = 0; i < ascii.length; i++) {
    const c = ascii[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= ascii.length) throw new Error('\\ at end of string');
    const e = ascii[++i] as string;
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case "'": out += "'"; break;
      case '"': out += '"'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = ascii.slice(i + 1, i + 1 + len);
        if (hex.length < len || !/^[0-9a-fA-F]+$/.test(hex)) {
          throw new Error(`truncated \\${e === 'x' ? 'xXX' : e === 'u' ? 'uXXXX' : 'UXXXXXXXX'} escape`);
        }
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw new Error('illegal Unicode character');
        out += String.fromCodePoint(cp);
        i += len;
        break;
      }
      case 'N':
        throw new Error('\\N{...} escapes are not supported');
      default:
        if (e >= '0' && e <= '7') {
          let oct = e;
          while (oct.length < 3 && i + 1 < ascii.length && (ascii[i + 1] as string) >= '0' && (ascii[i + 1] as string) <= '7') {
            oct += ascii[++i];
          }
          out += String.fromCodePoint(parseInt(oct, 8));
        } else out += `\\${e}`;
    }
  }
  return out;
}
