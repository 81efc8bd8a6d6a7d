import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { queryArrow } from '../src/arrow-query.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

async function ids(dir: string): Promise<number[]> {
  const out: number[] = [];
  for await (const batch of queryArrow({ dir })) for (const v of batch.getChild('id')!) out.push(Number(v));
  return out.sort((a, b) => a - b);
}

describe('ArrowArchiver unique_key', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('writes each key once, also across a restart (keys rebuilt from the files)', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = path.join(t.dir, 'archive');
    const manifest = {
      _id: 'tel',
      classname: 'ArrowArchiver',
      arguments: { object_selector: '*', event_name: 'telemetry', concurrency: 8, batch_ms: 2, unique_key: '{{ id }}', save_template: `${out}/{{ source }}.arrow` },
    };
    const run = async (events: number[]): Promise<void> => {
      const { boss, publish } = await startBoss(manifest, { baseDir: t.dir });
      try {
        for (const id of events) await publish('robot', 'telemetry', [{ id, x: id + 0.5 }, {}]);
        await until(() => boss.status()[0]?.stats?.stored === events.length, 10_000, 'all stored');
        expect(boss.status()[0]?.stats?.deadLettered).toBe(0);
      } finally {
        await boss.stop();
      }
    };
    // 3 twice in the first run (a re-delivery), 5..9 again after the restart.
    await run([0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]);
    expect(await ids(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await run([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await ids(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});
