import { afterEach, describe, expect, test } from 'vitest';
import { ArchiverError } from '../src/errors.js';
import { compileTemplate } from '../src/template.js';

/** Renders, or returns the error code; a template must never reach JavaScript internals. */
function attempt(source: string, context: Record<string, unknown> | Map<string, unknown> = {}): string {
  try {
    return compileTemplate(source).render(context as Record<string, never>);
  } catch (err) {
    if (err instanceof ArchiverError) return err.code;
    throw err;
  }
}

const SAFE = new Set(['', 'ARCHIVER_TEMPLATE_FAILED', 'ARCHIVER_TEMPLATE_INVALID']);
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

describe('templates cannot reach JavaScript internals', () => {
  afterEach(() => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
  });

  test.each([
    "{{ ''.constructor.constructor('globalThis.pwned = 1; return process')() }}",
    "{{ ''.constructor }}",
    '{{ x.__proto__ }}',
    "{{ x['__proto__'] }}",
    "{{ x['__proto__']['toString'] }}",
    '{{ x.constructor }}',
    "{{ x['constructor'] }}",
    '{{ x.hasOwnProperty }}',
    '{{ range.constructor }}',
    "{{ range.constructor('globalThis.pwned = 1')() }}",
    '{{ range.call }}',
    '{{ range.name }}',
    '{{ namespace.constructor }}',
    '{{ dict.prototype }}',
    '{{ [].constructor }}',
    '{{ [].map }}',
    '{{ "abc".length }}',
    '{{ "abc".at(0) }}',
    '{{ 1.5.toFixed }}',
    '{{ (1.0).valueOf() }}',
    '{{ n.toString() }}',
    '{{ loop }}',
    '{% for i in [1] %}{{ loop.items }}{{ loop.constructor }}{{ loop.index0.constructor }}{% endfor %}',
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    '{{ self }}',
    '{{ cycler.__init__.__globals__ }}',
    '{{ lipsum.__globals__ }}',
    "{{ 'x'|attr('constructor') }}",
    "{{ x|attr('__proto__') }}",
    '{{ "{0.constructor}".format("") }}',
    '{{ "{0.__class__}".format("") }}',
    '{{ "%(constructor)s" % {} }}',
    '{{ toString }}',
    '{{ hasOwnProperty }}',
    '{{ __proto__ }}',
    '{{ constructor }}',
    '{{ x|constructor }}',
    '{{ x is constructor }}',
    '{{ x is toString }}',
    '{% set x.__proto__ = 1 %}',
    '{% set ns = namespace() %}{% set ns.__proto__ = 1 %}{% set ns.constructor = 2 %}',
    '{{ dict(__proto__=1, constructor=2) }}',
    '{{ {"__proto__": {"polluted": 1}}.__proto__.polluted }}',
  ])('%s', (source) => {
    const out = attempt(source, { x: { a: 1 }, n: 5 });
    // Either nothing (Undefined), a coded error, or plain Python data — never a JS function,
    // a prototype, or anything from Node.
    if (!SAFE.has(out)) {
      expect(out).not.toMatch(/function|native code|\[object|process|prototype/i);
    }
  });

  test('names of Object.prototype members are not variables', () => {
    expect(attempt('{{ toString }}|{{ valueOf }}|{{ __proto__ }}|{{ constructor }}')).toBe('|||');
    expect(attempt('{{ toString }}|{{ __proto__ }}', new Map())).toBe('|');
  });

  test('own keys with those names are ordinary data', () => {
    expect(attempt('{{ constructor }} {{ d.constructor }} {{ d["__proto__"] }}', { constructor: 'c', d: JSON.parse('{"constructor": 1, "__proto__": 2}') })).toBe('c 1 2');
  });

  test('dunder and private attributes are never handed out', () => {
    expect(attempt("{{ ''.__class__ }}|{{ x.__len__ }}|{{ x._hidden is defined }}", { x: { a: 1 } })).toBe('||False');
  });

  test('event metadata cannot be modified by a template', () => {
    const meta = { tags: ['a'], d: { k: 1 } };
    for (const t of ['{{ tags.append(1) }}', '{{ d.update({"k": 2}) }}', '{{ d.pop("k") }}', '{{ tags.sort() }}', '{{ d.clear() }}']) {
      expect(attempt(t, meta)).toBe('ARCHIVER_TEMPLATE_FAILED');
    }
    expect(meta).toEqual({ tags: ['a'], d: { k: 1 } });
  });
});
