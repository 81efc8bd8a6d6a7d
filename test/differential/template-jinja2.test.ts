import { beforeAll, describe, expect, test } from 'vitest';
import { ArchiverError } from '../../src/errors.js';
import { PyDateTime, pyFloat, type PyValue } from '../../src/heros/values.js';
import { compileTemplate } from '../../src/template.js';
import { runPython } from '../helpers/python.js';
import { CORPUS, type Case } from './template-corpus.js';

/** What Jinja2 did with one case. */
type Outcome = { ok: string } | { err: 'invalid' | 'failed'; type: string; msg: string };

const PYTHON = String.raw`
import datetime, json, sys
import jinja2

def conv(o):
    if isinstance(o, dict):
        if len(o) == 1:
            (k, v), = o.items()
            if k == '$float':
                return float(v)
            if k == '$int':
                return int(v)
            if k == '$map':
                return {key(conv(a)): conv(b) for a, b in v}
            if k == '$datetime':
                return datetime.datetime.fromisoformat(v)
        return {k: conv(v) for k, v in o.items()}
    if isinstance(o, list):
        return [conv(x) for x in o]
    return o

def key(k):
    return tuple(k) if isinstance(k, list) else k

out = []
for case in json.load(sys.stdin):
    try:
        tpl = jinja2.Template(case['t'])
    except jinja2.TemplateSyntaxError as e:
        out.append({'err': 'invalid', 'type': type(e).__name__, 'msg': str(e)})
        continue
    try:
        out.append({'ok': tpl.render(conv(case.get('ctx') or {}))})
    except Exception as e:
        out.append({'err': 'failed', 'type': type(e).__name__, 'msg': str(e)})
json.dump(out, sys.stdout)
`;

/** The JSON type-tag convention of the corpus, decoded into the event value model. */
function fromJson(v: unknown): PyValue {
  if (v === null || typeof v !== 'object') return v as PyValue;
  if (Array.isArray(v)) return v.map(fromJson);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if ('$float' in o) {
      const x = o.$float;
      const special: Record<string, number> = { nan: Number.NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };
      return pyFloat(typeof x === 'string' ? (special[x] ?? Number(x)) : (x as number));
    }
    if ('$int' in o) return BigInt(o.$int as string);
    if ('$map' in o) return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [fromJson(k), fromJson(x)]));
    if ('$datetime' in o) {
      const iso = o.$datetime as string;
      return new PyDateTime(iso, Date.parse(iso) / 1000);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, fromJson(o[k])]));
}

function ours(c: Case): Outcome {
  try {
    const t = compileTemplate(c.t);
    return { ok: t.render((fromJson(c.ctx ?? {}) ?? {}) as Record<string, PyValue>) };
  } catch (err) {
    if (err instanceof ArchiverError && err.code === 'ARCHIVER_TEMPLATE_INVALID') {
      return { err: 'invalid', type: err.code, msg: err.message };
    }
    if (err instanceof ArchiverError && err.code === 'ARCHIVER_TEMPLATE_FAILED') {
      return { err: 'failed', type: err.code, msg: err.message };
    }
    return { err: 'failed', type: `unexpected ${(err as Error).name}`, msg: String(err) };
  }
}

function agree(expected: Outcome, got: Outcome): boolean {
  if ('ok' in expected) return 'ok' in got && got.ok === expected.ok;
  // Where Jinja2 raises we must raise with the matching code; unexpected JS errors never agree.
  return 'err' in got && got.err === expected.err && !got.type.startsWith('unexpected');
}

describe('templates render exactly as Jinja2 renders them', () => {
  let jinja: Outcome[];

  beforeAll(() => {
    jinja = JSON.parse(runPython(PYTHON, JSON.stringify(CORPUS)).toString('utf8')) as Outcome[];
  });

  test('the corpus is large enough to mean something', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(250);
    expect(jinja).toHaveLength(CORPUS.length);
  });

  test('every case agrees with Jinja2 (output, or the error class)', () => {
    const mismatches: string[] = [];
    CORPUS.forEach((c, i) => {
      const expected = jinja[i] as Outcome;
      const got = ours(c);
      if (!agree(expected, got)) {
        mismatches.push(
          [
            `#${i} template: ${JSON.stringify(c.t)}`,
            `   context:  ${c.ctx === undefined ? '{}' : JSON.stringify(c.ctx).slice(0, 300)}`,
            `   expected: ${JSON.stringify(expected)}`,
            `   got:      ${JSON.stringify(got)}`,
          ].join('\n'),
        );
      }
    });
    expect(mismatches, `${mismatches.length} of ${CORPUS.length} cases differ from Jinja2:\n${mismatches.join('\n')}`).toEqual([]);
  });
});
