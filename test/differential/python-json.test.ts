import { describe, expect, it } from 'vitest';
import { pyJsonDumps } from '../../src/formats/python-json.js';
import { pyFloat, type PyValue } from '../../src/heros/values.js';
import { runPython } from '../helpers/python.js';

/**
 * Values are built in Python and sent over in a JSON form with explicit types, so that the
 * int/float distinction (1 vs 1.0), big ints, NaN and lone surrogates all survive the trip:
 * null/true/false/strings as themselves, {"i": "<decimal>"}, {"f": "<repr>"}, {"l": [...]}
 * for lists and tuples, {"d": [[key, value], ...]} for dicts. Python's ensure_ascii output is
 * ASCII, so the expected texts travel unchanged.
 */
const CORPUS_SCRIPT = String.raw`
import json, math, random, struct, sys

rng = random.Random(20240601)

def rand_int():
    r = rng.random()
    if r < 0.4: return rng.randint(-1000, 1000)
    if r < 0.6: return rng.randint(-2**31, 2**31)
    if r < 0.8: return rng.choice([1, -1]) * (2**53 + rng.randint(-3, 3))
    if r < 0.9: return rng.randint(-2**64, 2**64)
    return rng.choice([1, -1]) * rng.getrandbits(rng.randint(65, 300))

def rand_float():
    r = rng.random()
    if r < 0.25: return struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
    if r < 0.45: return rng.uniform(-1e6, 1e6)
    if r < 0.55: return float(rng.randint(-10**6, 10**6))
    if r < 0.70: return rng.random() * 10.0 ** rng.randint(-30, 30)
    if r < 0.80: return float(rng.getrandbits(rng.randint(50, 80))) * rng.choice([1, -1])
    return rng.choice([0.1, 0.5, -2.5, 1e-7, 1e22, 1e21, 1e15, 9.999999999999999e15, 1e-4, 0.0001234,
                       123456789012345678.0, -2.5e-300, 2.2250738585072014e-308, float('nan'), float('inf'), -0.0])

def rand_char():
    r = rng.random()
    if r < 0.5: return chr(rng.randint(0x20, 0x7e))
    if r < 0.6: return chr(rng.randint(0, 0x1f))
    if r < 0.65: return rng.choice(['\x7f', '"', '\\', '/', '\u2028', '\ufeff', '\uffff'])
    if r < 0.75: return chr(rng.randint(0x80, 0xff))
    if r < 0.85: return chr(rng.randint(0x100, 0xffff))
    if r < 0.95: return chr(rng.randint(0x10000, 0x10ffff))
    return chr(rng.randint(0xd800, 0xdfff))

def rand_str():
    return ''.join(rand_char() for _ in range(rng.randint(0, 16)))

def rand_key():
    r = rng.random()
    if r < 0.6: return rand_str()
    if r < 0.75: return rand_int()
    if r < 0.85: return rand_float()
    return rng.choice([True, False, None, '10', '2', '0', '4294967295', '-1', '01'])

def rand_scalar():
    r = rng.random()
    if r < 0.3: return rand_int()
    if r < 0.6: return rand_float()
    if r < 0.85: return rand_str()
    return rng.choice([True, False, None])

def rand_value(depth):
    r = rng.random()
    if depth >= 5 or r < 0.45: return rand_scalar()
    n = rng.choice([0, 1, 2, 3, 5, 8])
    if r < 0.65: return [rand_value(depth + 1) for _ in range(n)]
    if r < 0.7: return tuple(rand_value(depth + 1) for _ in range(n))
    return {rand_key(): rand_value(depth + 1) for _ in range(n)}

def nest_lists(n):
    v = 'bottom'
    for i in range(n): v = [i, v]
    return v

def nest_dicts(n):
    v = {}
    for i in range(n): v = {'level%d' % i: v, 'n': i}
    return v

hand = [
    1.0, -0.0, 0.0, 1e16, 1e-05, 1e-4, 5e-324, 1.7976931348623157e308, float('nan'),
    float('inf'), -float('inf'), 2**53 + 1, -2**70, 2**64, 0, -1, True, False, None,
    0.1, 1e22, 123.456, 1e-07, 100.0, 1e15, 1e17,
    '', 'plain ascii', 'caf\u00e9', '\U0001F600', 'mixed \U0001F680 and \u4e2d\u6587',
    '\x00\x01\x1f', '\x7f', '"quoted" and back\\slash / slash', '\b\f\n\r\t', '\u2028\u2029',
    '\ufeff', '\ud800', 'a\udfffb', '\U0010FFFF',
    {}, [], [[]], [{}], {'a': {}}, {'a': []}, (1, 2), (), [1, [2, [3, []]]],
    nest_lists(10), nest_dicts(10), nest_lists(300),
    {1: 'int', 2.5: 'float', True: 'bool', None: 'none', 'x': 'str'},
    {float('nan'): 1, float('inf'): 2, float('-inf'): 3, -0.0: 4, 1e16: 5, 1e-05: 6},
    {2**53 + 1: 'big', -2**70: 'neg', 10**30: 'huge'},
    {'10': 1, '2': 2, 'b': 3, '1': 4, '0': 5},
    {'z': 1, 'a': 2, 'm': 3},
    {'1': 'str', 1: 'int', 1.5: 'f', '1.5': 's'},
    {False: 0, 'false': 'str'},
    {'\U0001F600': '\U0001F600', 'k\n': 'v\t', '"': '\\'},
    {'__proto__': 1, 'constructor': 2, 'toString': 3},
    {'event': 'frame', 'camera': 'cam-01', 'exposure_s': 0.0125, 'gain': 1.0, 'seq': 123456,
     'tags': ['a', 'b', 'c'], 'roi': {'x': 0, 'y': 0, 'w': 1024, 'h': 768},
     'temps': [21.5, 21.75, 22.0, -0.0], 'ok': True, 'note': None,
     'stamps': [1717000000.123456, 1717000001.0], 'unit': '\u00b5s'},
]
corpus = hand + [rand_value(0) for _ in range(170)]

def transfer(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return {'i': str(v)}
    if isinstance(v, float): return {'f': repr(v)}
    if isinstance(v, (list, tuple)): return {'l': [transfer(x) for x in v]}
    if isinstance(v, dict): return {'d': [[transfer(k), transfer(x)] for k, x in v.items()]}
    raise TypeError(type(v))

sys.setrecursionlimit(20000)
out = []
for v in corpus:
    out.append({'value': transfer(v), 'repr': ascii(v)[:70],
                'indent4': json.dumps(v, indent=4), 'oneLine': json.dumps(v),
                'indent0': json.dumps(v, indent=0), 'indent2': json.dumps(v, indent=2)})
sys.stdout.write(json.dumps(out))
`;

interface Case {
  value: unknown;
  repr: string;
  indent4: string;
  oneLine: string;
  indent0: string;
  indent2: string;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/** Mirrors the value model: a dict is a plain object unless a key would reorder or is not a string. */
function fromTransfer(t: unknown): PyValue {
  if (t === null || typeof t === 'boolean' || typeof t === 'string') return t;
  const o = t as { i?: string; f?: string; l?: unknown[]; d?: [unknown, unknown][] };
  if (o.i !== undefined) {
    const big = BigInt(o.i);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (o.f !== undefined) {
    const special: Record<string, number> = { nan: Number.NaN, inf: Infinity, '-inf': -Infinity };
    return pyFloat(special[o.f] ?? Number(o.f));
  }
  if (o.l !== undefined) return o.l.map(fromTransfer);
  const entries = (o.d ?? []).map(([k, v]) => [fromTransfer(k), fromTransfer(v)] as const);
  const plain = entries.every(
    ([k]) => typeof k === 'string' && k !== '__proto__' && !(ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1),
  );
  if (!plain) return new Map(entries);
  const obj: { [key: string]: PyValue } = {};
  for (const [k, v] of entries) obj[k as string] = v;
  return obj;
}

const corpus = JSON.parse(runPython(CORPUS_SCRIPT).toString('utf8')) as Case[];
const cases = corpus.map((c, i) => ({ ...c, name: `#${i} ${c.repr}`, value: fromTransfer(c.value) }));

describe('pyJsonDumps is byte-identical to Python json.dumps', () => {
  it('covers at least 150 values', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it.each(cases)('$name', (c) => {
    expect(pyJsonDumps(c.value)).toBe(c.indent4);
    expect(pyJsonDumps(c.value, { indent: 4 })).toBe(c.indent4);
    expect(pyJsonDumps(c.value, { indent: null })).toBe(c.oneLine);
    expect(pyJsonDumps(c.value, { indent: 0 })).toBe(c.indent0);
    expect(pyJsonDumps(c.value, { indent: 2 })).toBe(c.indent2);
  });
});
