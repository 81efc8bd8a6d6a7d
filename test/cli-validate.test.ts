import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import { tempDir } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

function capture() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('heros-archiver validate', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('accepts the repository boss.json and the examples (exit 0)', async () => {
    const io = capture();
    const code = await main(['validate', path.join(repoRoot, 'boss.json'), path.join(repoRoot, 'examples/custom-archiver/boss.json')], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toContain('3 actors');
  });

  it('exits 78 and lists every problem of a broken manifest folder with paths', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const dir = path.join(t.dir, 'manifests');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'a.json'),
      JSON.stringify([
        { _id: 'cam', classname: 'herostools.actor.ArrayArchiver', arguments: { object_selector: 'cam', event_name: 'f', save_template: '{{ x ', colour: 'red' } },
        { _id: 'cam', classname: 'mylab.Fancy', arguments: {} },
      ]),
    );
    await writeFile(path.join(dir, 'b.json'), '{ not json');
    const io = capture();
    const code = await main(['validate', dir], io);
    expect(code).toBe(EXIT.CONFIG);
    // JSON errors are found before class resolution; fix b.json and every other problem shows.
    expect(io.stderr).toContain('b.json: not valid JSON');
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ _id: 'j', classname: 'JsonArchiver', arguments: { object_selector: 1, event_name: 'e', save_template: 'x' } }));
    const io2 = capture();
    expect(await main(['validate', dir], io2)).toBe(EXIT.CONFIG);
    expect(io2.stderr).toContain('duplicate _id "cam"');
    const io3 = capture();
    await writeFile(
      path.join(dir, 'a.json'),
      JSON.stringify([
        { _id: 'cam', classname: 'herostools.actor.ArrayArchiver', arguments: { object_selector: 'cam', event_name: 'f', save_template: '{{ x ', colour: 'red' } },
        { _id: 'cam2', classname: 'mylab.Fancy', arguments: {} },
      ]),
    );
    expect(await main(['validate', dir], io3)).toBe(EXIT.CONFIG);
    for (const needle of [
      '[0].arguments.colour: unknown option "colour"',
      '[0].arguments.save_template:',
      'ARCHIVER_TEMPLATE_INVALID',
      '[1].classname:',
      'ARCHIVER_CLASS_NOT_FOUND',
      'b.json.arguments.object_selector: expected a string, got a number 1',
    ]) {
      expect(io3.stderr).toContain(needle);
    }
    expect(io3.stderr).toMatch(/^heros-archiver: 4 configuration problems:/);
  });

  it('exits 78 for a manifest that does not exist, 64 for a usage error', async () => {
    expect(await main(['validate', '/nonexistent/boss.json'], capture())).toBe(EXIT.CONFIG);
    expect(await main(['validate'], capture())).toBe(EXIT.USAGE);
    expect(await main(['frobnicate'], capture())).toBe(EXIT.USAGE);
  });
});
