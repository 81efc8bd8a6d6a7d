import { describe, expect, it } from 'vitest';
import { parseManifests } from '../src/manifest.js';
import { PyFloat } from '../src/heros/values.js';

const doc = (text: unknown, source = 'boss.json') => ({ source, baseDir: '/tmp', text: typeof text === 'string' ? text : JSON.stringify(text) });
const entry = (id: string) => ({ _id: id, classname: 'herostools.actor.JsonArchiver', arguments: { object_selector: 'x', event_name: 'e', save_template: 'a.json' } });

describe('manifest shapes accepted as BOSS accepts them', () => {
  it('takes a single entry object', () => {
    const [e] = parseManifests([doc(entry('a'))]);
    expect(e?.id).toBe('a');
    expect(e?.origin.pointer).toBe('');
  });

  it('takes an array of entries and keeps their order', () => {
    expect(parseManifests([doc([entry('a'), entry('b')])]).map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('takes a CouchDB view {"rows": [...]} with and without "doc"', () => {
    const entries = parseManifests([doc({ rows: [{ id: 'x', doc: entry('a') }, entry('b')] })]);
    expect(entries.map((e) => [e.id, e.origin.pointer])).toEqual([
      ['a', '.rows[0].doc'],
      ['b', '.rows[1]'],
    ]);
  });

  it('ignores BOSS keys it does not use (extra_decorators, datasource, tags)', () => {
    const [e] = parseManifests([doc({ ...entry('a'), extra_decorators: [], tags: ['x'], datasource: {} })]);
    expect(e?.classname).toBe('herostools.actor.JsonArchiver');
  });

  it('treats missing arguments as {}', () => {
    const [e] = parseManifests([doc({ _id: 'a', classname: 'X' })]);
    expect(e?.arguments).toEqual({});
  });

  it('keeps Python floats and big ints in arguments', () => {
    const [e] = parseManifests([doc('{"_id":"a","classname":"X","arguments":{"default_metadata":{"exposure":1.0,"n":2,"big":123456789012345678901}}}')]);
    const md = e?.arguments.default_metadata as Record<string, unknown>;
    expect(md.exposure).toBeInstanceOf(PyFloat);
    expect(md.n).toBe(2);
    expect(md.big).toBe(123456789012345678901n);
  });

  it('returns frozen entries', () => {
    const [e] = parseManifests([doc(entry('a'))]);
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e?.arguments)).toBe(true);
  });
});
