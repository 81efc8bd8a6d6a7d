import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('ArrowArchiver forward_only', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('dead-letters an event older than its source watermark (ARCHIVER_LATE_EVENT), also after a restart', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const out = path.join(t.dir, 'archive');
    const manifest = {
      _id: 'tel',
      classname: 'ArrowArchiver',
      arguments: { object_selector: '*', event_name: 'telemetry', time_key: 'ts', forward_only: true, batch_ms: 1, save_template: `${out}/{{ source }}.arrow` },
    };
    const dead = new DeadLetterStore(path.join(t.dir, 'dead-letter'));
    const run = async (events: [string, number][], stored: number, dl: number): Promise<void> => {
      const { boss, publish } = await startBoss(manifest, { baseDir: t.dir });
      try {
        for (const [src, ts] of events) await publish(src, 'telemetry', [{ ts, v: 1 }, {}]);
        await until(() => {
          const s = boss.status()[0]?.stats;
          return s?.stored === stored && s.deadLettered === dl;
        }, 10_000, `${stored} stored, ${dl} dead-lettered`);
      } finally {
        await boss.stop();
      }
    };
    // Per source: robot-b's 5 is not late even though robot-a is at 20.
    await run([['robot-a', 10], ['robot-a', 20], ['robot-a', 15], ['robot-b', 5], ['robot-a', 20]], 4, 1);
    let entries = await dead.list('tel');
    expect(entries.map((e) => [e.record.code, e.record.source])).toEqual([['ARCHIVER_LATE_EVENT', 'robot-a']]);
    // After a restart the watermark (20 for robot-a, 5 for robot-b) comes from the files.
    await run([['robot-a', 18], ['robot-b', 4], ['robot-a', 25], ['robot-c', 1]], 2, 2);
    entries = await dead.list('tel');
    expect(entries.map((e) => e.record.code)).toEqual(['ARCHIVER_LATE_EVENT', 'ARCHIVER_LATE_EVENT', 'ARCHIVER_LATE_EVENT']);
    expect(entries.map((e) => e.record.source).sort()).toEqual(['robot-a', 'robot-a', 'robot-b']);
  });
});
