import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('a burst beyond the memory budget', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it.each(['memory', 'spool'])('spills to the disk spool and stores every event in order (durability %s)', async (durability) => {
    const t = await tempDir();
    const id = `burst-${durability}`;
    ScriptedArchiver.stored.delete(id);
    let maxInFlight = 0;
    let gate = false;
    ScriptedArchiver.scripts.set(id, async () => {
      // Hold stores back until the whole burst has arrived, so that it must spill.
      await until(() => gate, 30_000);
    });
    const { boss, publish } = await startBoss(scriptedEntry(id, { durability, memory_budget_events: 20, memory_budget_bytes: 64 * 1024 }), { baseDir: t.dir });
    cleanup = async () => {
      gate = true;
      await boss.stop();
      await t.cleanup();
    };
    const n = 500; // 25x the budget
    for (let i = 0; i < n; i++) await publish('cam', 'frame', [i, { i, pad: 'x'.repeat(200) }]);
    await until(() => boss.status()[0]?.stats?.received === n, 30_000);
    // Written to the spool (its bytes counted), with at most the budget held in memory.
    await until(() => (boss.status()[0]?.stats?.spooled ?? 0) >= n - 20 && (boss.status()[0]?.stats?.spoolBytes ?? 0) > 0, 30_000, 'burst spooled');
    const during = boss.status()[0]!.stats!;
    maxInFlight = during.pending - during.spooled;
    expect(maxInFlight).toBeLessThanOrEqual(20);
    gate = true;
    await until(() => boss.status()[0]?.stats?.stored === n, 60_000, 'all stored');
    expect(ScriptedArchiver.stored.get(id)?.map((s) => s.payload)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(boss.status()[0]?.stats).toMatchObject({ refused: 0, deadLettered: 0, pending: 0, spooled: 0 });
  });
});
