/**
 * Event key expressions and source names, compared with heros' own EventObserver selector and
 * `object_name_from_keyexpr`.
 */
import { describe, expect, it } from 'vitest';
import { HEROS_NAMESPACE, eventKeyExpr, sourceFromKey } from '../src/heros/keys.js';
import { runPython } from './helpers/python.js';

const SELECTORS: [realm: string, selector: string, event: string][] = [
  ['heros', '*', 'acquisition_data'],
  ['heros', 'my-camera', 'acquisition_data'],
  ['lab', 'cam*', 'frame'],
  ['lab', 'stage/**', 'position'],
];

const KEYS: [key: string, realm: string, event: string][] = [
  ['@object/heros/my-camera/acquisition_data', 'heros', 'acquisition_data'],
  ['@object/lab/cam1/frame', 'lab', 'frame'],
  ['@object/lab/cam_02.a/frame', 'lab', 'frame'],
  ['@object/lab/building/floor/cam/frame', 'lab', 'frame'],
  // The shortest capture wins, so a longer name whose chunk starts with the event name is cut.
  ['@object/lab/a/frame_b/frame', 'lab', 'frame'],
  ['@object/lab/a/frame', 'lab', 'frames'],
  ['@object/other/a/frame', 'lab', 'frame'],
  ['prefix/@object/lab/a/frame', 'lab', 'frame'],
  ['@object/lab/a/frame/suffix', 'lab', 'frame'],
  ['@object/lab//frame', 'lab', 'frame'],
  ['@object/lab/a\r/frame', 'lab', 'frame'],
  ['@object/lab/a\nb/frame', 'lab', 'frame'],
];

const PYTHON = String.raw`
import json, sys
from heros import EventObserver
from heros.helper import object_name_from_keyexpr
cases = json.load(sys.stdin)
ns = EventObserver._ns_objects
selectors = ['/'.join([ns, realm, selector, event]) for realm, selector, event in cases['selectors']]
def source(key, realm, event):
    try:
        return object_name_from_keyexpr(key, ns, realm, event)
    except AttributeError:  # re.search found nothing
        return None
json.dump({'ns': ns, 'selectors': selectors, 'sources': [source(*c) for c in cases['keys']]}, sys.stdout)
`;

const python = JSON.parse(runPython(PYTHON, JSON.stringify({ selectors: SELECTORS, keys: KEYS })).toString('utf8')) as {
  ns: string;
  selectors: string[];
  sources: (string | null)[];
};

describe('HEROS event keys', () => {
  it('uses the namespace of heros', () => {
    expect(HEROS_NAMESPACE).toBe(python.ns);
    expect(HEROS_NAMESPACE).toBe('@object');
  });

  it.each(SELECTORS.map((c, i) => [c.join(' '), c, i] as const))('builds the selector for %s like EventObserver', (_n, c, i) => {
    expect(eventKeyExpr(...c)).toBe(python.selectors[i]);
  });

  it.each(KEYS.map((c, i) => [JSON.stringify(c[0]), c, i] as const))('finds the source of %s like heros', (_n, c, i) => {
    expect(sourceFromKey(...c) ?? null).toBe(python.sources[i]);
  });

  it('takes realm and event names literally, where Python reads them as patterns', () => {
    // Python: "data+1" is the pattern "dat", "a" repeated, "1", which never matches the key.
    expect(sourceFromKey('@object/lab/cam/data+1', 'lab', 'data+1')).toBe('cam');
    expect(sourceFromKey('@object/lab/cam/dataa1', 'lab', 'data+1')).toBeUndefined();
    expect(sourceFromKey('@object/my.realm/cam/frame', 'my.realm', 'frame')).toBe('cam');
    expect(sourceFromKey('@object/myXrealm/cam/frame', 'my.realm', 'frame')).toBeUndefined();
  });
});
