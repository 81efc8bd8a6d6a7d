import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { parseManifests } from '../src/manifest.js';

const doc = (text: string, source = 'boss.json') => ({ source, baseDir: '/tmp', text });

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.code} ${p.path}`);
  }
  throw new Error('expected a ConfigError');
}

describe('manifest problems are all reported, with paths', () => {
  it('reports invalid JSON with the file name', () => {
    expect(problemsOf(() => parseManifests([doc('{"_id": ')]))).toEqual(['ARCHIVER_MANIFEST_INVALID boss.json']);
  });

  it('reports every bad entry, not just the first', () => {
    const text = JSON.stringify([{ _id: 1, classname: 'X' }, { _id: 'b', classname: '' }, { _id: 'c', classname: 'X', arguments: [] }, 'nope']);
    expect(problemsOf(() => parseManifests([doc(text)]))).toEqual([
      'ARCHIVER_MANIFEST_INVALID boss.json[0]._id',
      'ARCHIVER_MANIFEST_INVALID boss.json[1].classname',
      'ARCHIVER_MANIFEST_INVALID boss.json[2].arguments',
      'ARCHIVER_MANIFEST_INVALID boss.json[3]',
    ]);
  });

  it('reports duplicate _id across files, naming the first declaration', () => {
    const a = JSON.stringify({ _id: 'cam', classname: 'X' });
    let message = '';
    try {
      parseManifests([doc(a, 'a.json'), doc(a, 'b.json')]);
    } catch (err) {
      message = (err as ConfigError).message;
      expect((err as ConfigError).problems[0]?.code).toBe('ARCHIVER_DUPLICATE_ID');
    }
    expect(message).toContain('b.json._id');
    expect(message).toContain('first declared at a.json');
  });

  it('refuses an empty array and a non-object document', () => {
    expect(problemsOf(() => parseManifests([doc('[]'), doc('42', 'x.json')]))).toEqual(['ARCHIVER_MANIFEST_INVALID boss.json', 'ARCHIVER_MANIFEST_INVALID x.json']);
  });
});
