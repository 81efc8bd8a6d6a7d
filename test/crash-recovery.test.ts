import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runChildScript } from './helpers/child-script.js';
import { tempDir } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

const DAEMON = path.join(repoRoot, 'test/fixtures/crash-daemon.ts');

const run = (args: string[], onLine: (line: string, kill: () => void) => void) => runChildScript(DAEMON, args, onLine);

describe('kill -9 during a load, then restart', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('archives every accepted event exactly once (durability "spool")', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const n = 2000;
    let accepted: { received: number; durable: number; stored: number } | undefined;
    const first = await run([t.dir, 'publish', String(n)], (line, kill) => {
      if (line.startsWith('accepted ')) {
        accepted = JSON.parse(line.slice(9));
        kill();
      }
    });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(accepted?.received).toBe(n);
    expect(accepted?.durable).toBe(n);
    // The kill came while stores were still queued: the test is only meaningful then.
    expect(accepted!.stored).toBeLessThan(n);

    let recovered: { stored: number; deadLettered: number; refused: number } | undefined;
    const second = await run([t.dir, 'recover'], (line) => {
      if (line.startsWith('idle ')) recovered = JSON.parse(line.slice(5));
    });
    expect(second.code, second.stderr).toBe(0);
    const files = (await readdir(path.join(t.dir, 'out'))).filter((f) => f.endsWith('.json')).sort();
    // Exactly one file per event: none missing, none under another name. The write that the
    // kill interrupted may leave its hidden temporary files, one per store in flight
    // (`concurrency`, 8 by default), never under a final name.
    expect(files).toEqual(Array.from({ length: n }, (_, i) => `${String(i).padStart(5, '0')}.json`));
    expect((await readdir(path.join(t.dir, 'out'))).filter((f) => f.endsWith('.tmp')).length).toBeLessThanOrEqual(8);
    for (const i of [0, accepted!.stored, n - 1]) {
      expect(JSON.parse(await readFile(path.join(t.dir, 'out', files[i]!), 'utf8'))).toEqual({ n: i, text: `event ${i}` });
    }
    // Stored before the kill + stored after the restart covers all; re-stores (stored, not yet
    // acked at the kill) overwrite the same file.
    expect(accepted!.stored + recovered!.stored).toBeGreaterThanOrEqual(n);
    expect(recovered).toMatchObject({ deadLettered: 0, refused: 0 });
    process.stdout.write(`crash-recovery: ${n} accepted, ${accepted!.stored} stored before kill -9, ${recovered!.stored} stored after restart (${accepted!.stored + recovered!.stored - n} re-stored)\n`);
  });
});
