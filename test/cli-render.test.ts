import { describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';

async function render(template: string, metadata?: string) {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  const code = await main(['render', '--template', template, ...(metadata === undefined ? [] : ['--metadata', metadata])], io);
  return { code, ...io };
}

describe('heros-archiver render', () => {
  const seed = "{{ file_path }}/testimg-{{ '%04d' % ( frame / 2 ) |round(0, 'floor') }}-{{ frame % 2 }}.npy";
  it.each([
    [0, '/mnt/mystorage/images/testimg-0000-0.npy'],
    [1, '/mnt/mystorage/images/testimg-0000-1.npy'],
    [2, '/mnt/mystorage/images/testimg-0001-0.npy'],
  ])('prints the seed example for frame %i', async (frame, expected) => {
    const r = await render(seed, JSON.stringify({ file_path: '/mnt/mystorage/images', frame }));
    expect(r).toMatchObject({ code: EXIT.OK, stdout: `${expected}\n` });
  });

  it('keeps floats as Python floats (1.0 renders 1.0)', async () => {
    expect((await render('{{ x }}-{{ y }}', '{"x": 1.0, "y": 1}')).stdout).toBe('1.0-1\n');
  });

  it('reports a template error with its code and a non-zero exit', async () => {
    const r = await render('{{ "%d" % name }}', '{"name": "abc"}');
    expect(r.code).not.toBe(EXIT.OK);
    expect(r.stderr).toContain('ARCHIVER_TEMPLATE_FAILED');
    const bad = await render('{{ x ');
    expect(bad.code).toBe(EXIT.CONFIG);
    expect(bad.stderr).toContain('ARCHIVER_TEMPLATE_INVALID');
  });

  it('refuses metadata that is not a JSON object', async () => {
    expect((await render('x', '[1]')).code).toBe(EXIT.USAGE);
    expect((await render('x', '{bad')).code).toBe(EXIT.USAGE);
  });
});
