/**
 * Reading JSON the way Python's `json.loads` does, as far as archives can tell the difference:
 * `1.0` stays a float (templates render it `1.0`, JSON files write it `1.0`), integers beyond
 * 2^53 stay exact, `NaN`/`Infinity`/`-Infinity` are accepted, and object key order is kept —
 * also for keys like `"10"` and `"2"`, which a JavaScript object would move to the front. BOSS
 * reads manifests with json.loads, so `default_metadata` must keep these distinctions to render
 * file names and write merged metadata identically.
 *
 * Objects follow the value model (`src/heros/values.ts`): a plain object, or a `Map` when a key
 * is an array index or `__proto__`.
 */
import { pyFloat, type PyValue } from '../heros/values.js';

/** Parses JSON text as Python's `json.loads` would. Throws `SyntaxError` with the position. */
export function parseJsonKeepingPythonNumbers(text: string): PyValue {
  const p = new Parser(text);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i < text.length) p.fail('unexpected text after the JSON value');
  return value;
}

const MAX_DEPTH = 1000;
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

class Parser {
  readonly s: string;
  i = 0;
  constructor(s: string) {
    this.s = s;
  }

  fail(what: string): never {
    const before = this.s.slice(0, this.i);
    const line = before.split('\n').length;
    const column = this.i - before.lastIndexOf('\n');
    throw new SyntaxError(`${what} at line ${line} column ${column} (char ${this.i})`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', Number.NaN);
      case 'I':
        return this.literal('Infinity', Number.POSITIVE_INFINITY);
      default:
        if (c === '-' && this.s.startsWith('-Infinity', this.i)) return this.literal('-Infinity', Number.NEGATIVE_INFINITY);
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  literal<T extends PyValue>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`unexpected character ${JSON.stringify(this.s[this.i])}`);
    this.i += word.length;
    return value;
  }

  number(): PyValue {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) return this.fail('invalid number');
    this.i = m.lastIndex;
    const src = r[0];
    if (r[1] !== undefined || r[2] !== undefined) return pyFloat(Number(src));
    const n = Number(src);
    return Number.isSafeInteger(n) ? n : BigInt(src);
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= s.length) {
        this.i = i;
        this.fail('unterminated string');
      }
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.i = i;
        this.fail('invalid control character in string');
      }
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s[i + 1];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            i += 2;
            break;
          case 'b':
            out += '\b';
            i += 2;
            break;
          case 'f':
            out += '\f';
            i += 2;
            break;
          case 'n':
            out += '\n';
            i += 2;
            break;
          case 'r':
            out += '\r';
            i += 2;
            break;
          case 't':
            out += '\t';
            i += 2;
            break;
          case 'u': {
            const hex = s.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.i = i;
              this.fail('invalid \\u escape');
            }
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            break;
          }
          default:
            this.i = i;
            this.fail('invalid escape');
        }
        start = i;
        continue;
      }
      i++;
    }
    out += s.slice(start, i);
    this.i = i + 1;
    return out;
  }

  array(depth: number): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  object(depth: number): PyValue {
    this.i++;
    let obj: Record<string, PyValue> | undefined = {};
    let map: Map<string, PyValue> | undefined;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      const value = this.value(depth + 1);
      if (obj !== undefined && (key === '__proto__' || INDEX_KEY.test(key))) {
        // Switch to a Map at the first key a plain object would reorder or misread.
        map = new Map(Object.entries(obj));
        obj = undefined;
      }
      if (map !== undefined) map.set(key, value);
      else obj![key] = value;
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return map ?? obj!;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}
