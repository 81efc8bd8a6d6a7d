import { describe, expect, it } from 'vitest';
import { parseJsonKeepingPythonNumbers as parse } from '../src/formats/json-input.js';
import { pyJsonDumps } from '../src/formats/python-json.js';
import { PyFloat } from '../src/heros/values.js';
import { runPython } from './helpers/python.js';

describe('JSON input read as Python json.loads reads it', () => {
  it('keeps floats, big ints, NaN/Infinity and key order', () => {
    const v = parse('{"b": 1.0, "10": 2, "2": [1e3, -0.0, 123456789012345678901, NaN, -Infinity], "a": "\\u00e9\\ud83d\\ude00"}');
    expect(v).toBeInstanceOf(Map);
    const m = v as Map<string, unknown>;
    expect([...m.keys()]).toEqual(['b', '10', '2', 'a']);
    expect(m.get('b')).toBeInstanceOf(PyFloat);
    expect(m.get('a')).toBe('é😀');
  });

  it('round-trips through pyJsonDumps exactly as json.dumps(json.loads(t), indent=4)', () => {
    const texts = [
      '{"z": 1, "10": {"2": 2, "1": 1.5}, "a": [1, 2.0, {"3": null}]}',
      '[1, 2.50, 1E5, -1e-7, 0, -0, 18446744073709551616, "x\\ty\\u0001"]',
      '{"__proto__": {"x": 1}, "constructor": 2}',
      '{"dup": 1, "b": 2, "dup": 3}',
      '  {"nested": [[[[]]], {}], "t": true, "f": false, "n": null}  ',
    ];
    const expected = JSON.parse(
      runPython('import json, sys\nprint(json.dumps([json.dumps(json.loads(t), indent=4) for t in json.load(sys.stdin)]))', JSON.stringify(texts)).toString(),
    ) as string[];
    expect(texts.map((t) => pyJsonDumps(parse(t)))).toEqual(expected);
  });

  it.each(['', '{', '[1,]', '{"a" 1}', '01', '"\\x"', 'nul', '{"a":1}x', '"a\nb"'])('refuses %j with a SyntaxError', (t) => {
    expect(() => parse(t)).toThrow(SyntaxError);
  });
});
