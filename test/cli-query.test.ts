import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import { pyFloat } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('heros-archiver query', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('reads an ArrowArchiver actor found in the manifest, filtered by source and time', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'archive');
    const entry = {
      _id: 'tel',
      classname: 'ArrowArchiver',
      arguments: { object_selector: '*', event_name: 'telemetry', concurrency: 4, batch_ms: 1, save_template: `${out}/{{ source }}/{{ date }}.arrow` },
    };
    const { boss, publish } = await startBoss(entry, { baseDir: t.dir });
    cleanup = t.cleanup;
    for (let i = 0; i < 10; i++) await publish(i % 2 === 0 ? 'robot-a' : 'robot-b', 'telemetry', [{ t: 100 + i, x: pyFloat(i * 0.5) }, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 10);
    await boss.stop();
    const manifest = path.join(t.dir, 'boss.json');
    await writeFile(manifest, JSON.stringify([entry]));

    const io = { stdout: '', stderr: '', out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
    const code = await main(['query', '--actor', 'tel', '-m', manifest, '--source', 'robot-b', '--time-column', 't', '--start', '103', '--end', '108', '--format', 'csv'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(EXIT.OK);
    const lines = io.stdout.trim().split('\n');
    expect(lines[0]).toBe('source,received_at,t,x');
    expect(lines.slice(1).map((l) => l.split(',')[2]).sort()).toEqual(['103', '105', '107']);

    const bad = { stdout: '', stderr: '', out: (s: string) => void (bad.stdout += s), err: (s: string) => void (bad.stderr += s) };
    expect(await main(['query', '--actor', 'nope', '-m', manifest], bad)).toBe(EXIT.USAGE);
    expect(await main(['query', '--dir', out, '--format', 'xml'], bad)).toBe(EXIT.USAGE);
  });
});
