import { describe, expect, test } from 'vitest';
import { PyFloat } from '../src/heros/values.js';
import { compileTemplate } from '../src/template.js';

describe('compileTemplate', () => {
  test('caches compiled templates by source', () => {
    const source = '{{ run }}/{{ "%05d" % frame }}.npy';
    const a = compileTemplate(source);
    expect(compileTemplate(source)).toBe(a);
    expect(a.source).toBe(source);
  });

  test('lists the variables a template reads from the metadata', () => {
    const t = compileTemplate(
      '{{ a }}{% set b = 1 %}{{ b }}{% for i in items %}{{ i.x }}{{ loop.index }}{% endfor %}' +
        '{{ range(3)|list }}{{ meta.sub.key }}{{ c|default(a) }}',
    );
    expect(t.variables).toEqual(['a', 'items', 'meta', 'c']);
  });

  test('renders from a Map as from a plain object', () => {
    const t = compileTemplate('{{ gain }}-{{ frame }}-{{ missing }}');
    const meta = new Map<string, number | PyFloat>([
      ['gain', new PyFloat(2)],
      ['frame', 7],
    ]);
    expect(t.render(meta)).toBe('2.0-7-');
    expect(t.render({ gain: new PyFloat(2), frame: 7 })).toBe('2.0-7-');
  });

  test('a JavaScript undefined value is a missing variable, null is None', () => {
    expect(compileTemplate('{{ a }}|{{ a is defined }}|{{ b }}').render({ a: undefined, b: null })).toBe('|False|None');
  });

  test('rendering is stateless between calls', () => {
    const t = compileTemplate('{% set n = n|default(0) + 1 %}{{ n }}');
    expect(t.render({})).toBe('1');
    expect(t.render({})).toBe('1');
    expect(t.render({ n: 41 })).toBe('42');
  });
});
