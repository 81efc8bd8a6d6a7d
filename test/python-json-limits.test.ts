import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../src/errors.js';
import { pyJsonDumps } from '../src/formats/python-json.js';
import { Tagged, type PyValue } from '../src/heros/values.js';

const DEPTH = 100_000;

function nestedLists(depth: number): PyValue {
  let v: PyValue = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnrecoverableError);
    return (err as UnrecoverableError).code;
  }
  return undefined;
}

describe('pyJsonDumps at the limits', () => {
  it('writes nesting far deeper than the call stack allows', () => {
    const deep = nestedLists(DEPTH);
    expect(pyJsonDumps(deep, { indent: null })).toBe(`${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`);
  });

  it('indents deep nesting as Python does', () => {
    // Indented output grows with the square of the depth, so a smaller depth suffices here.
    const depth = 3000;
    const lines = pyJsonDumps(nestedLists(depth), { indent: 1 }).split('\n');
    expect(lines.length).toBe(2 * depth + 1);
    lines.forEach((line, i) => {
      const level = i <= depth ? i : 2 * depth - i;
      const token = i < depth ? '[' : i === depth ? '1' : ']';
      if (line !== `${' '.repeat(level)}${token}`) expect.fail(`line ${i}: ${JSON.stringify(line.slice(0, 40))}`);
    });
  });

  it('writes deep dicts', () => {
    let v: PyValue = {};
    for (let i = 0; i < DEPTH; i++) v = { k: v };
    expect(pyJsonDumps(v, { indent: null })).toBe(`${'{"k": '.repeat(DEPTH)}{}${'}'.repeat(DEPTH)}`);
  });

  it('writes a value shared by several branches each time, however deep', () => {
    const shared = nestedLists(200);
    const once = pyJsonDumps(shared, { indent: null });
    expect(pyJsonDumps([shared, { a: shared }, shared], { indent: null })).toBe(`[${once}, {"a": ${once}}, ${once}]`);
  });

  it('throws on a reference cycle, as Python raises ValueError', () => {
    const list: PyValue[] = [1];
    list.push([list]);
    const map = new Map<PyValue, PyValue>();
    map.set('self', { inner: map });
    const set = new Set<PyValue>();
    set.add(new Tagged(99, [set]));
    for (const cyclic of [list, map, set]) {
      expect(() => pyJsonDumps(cyclic)).toThrow(/Circular reference detected/);
      expect(codeOf(() => pyJsonDumps(cyclic))).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    }
    expect(() => pyJsonDumps(list, { nonJson: 'reject' })).toThrow(/Circular reference detected/);
  });

  it('turns output too long for a JavaScript string into a coded error', () => {
    const chunk = 'a'.repeat(2 ** 27);
    const code = codeOf(() => pyJsonDumps([chunk, chunk, chunk, chunk, chunk], { indent: null }));
    expect(code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
  });
});
